/**
 * The `inspect` command: its arguments (a positional is refused, and never echoed: it is most
 * likely a token), the report printed as text or `--json`, and the exit code: 0 valid or no
 * `--config`, 1 refused or not a JWT. Bad usage throws a {@link UsageError} (exit 2).
 */
import { parseArgs } from 'node:util'
import { MalformedTokenError, UsageError } from '../errors.js'
import type { CliIo } from '../io.js'
import { formatInspect } from './format.js'
import { inspectToken } from './report.js'
import { tokenFromInput } from './stdin.js'
import { loadConfig } from './verdict.js'

/** Runs `trustgate inspect ...args` and resolves to the exit code. */
export async function inspect(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  })
  // Not echoed: a positional here is most likely a token, and must not be printed.
  if (positionals.length > 0) {
    throw new UsageError(
      'inspect reads the token from standard input only, never from the command line (shell history, ps): trustgate inspect < token.txt',
    )
  }
  const options = values.config === undefined ? undefined : await loadConfig(values.config)
  const token = tokenFromInput(await io.stdin())
  try {
    const report = await inspectToken(token, options)
    io.stdout(values.json ? JSON.stringify(report, null, 2) : formatInspect(report))
    return report.verdict === null || report.verdict.valid ? 0 : 1
  } catch (error) {
    if (!(error instanceof MalformedTokenError)) throw error
    io.stdout(
      values.json
        ? JSON.stringify({ untrusted: true, error: 'malformed', message: error.message }, null, 2)
        : `not a JWT: ${error.message}`,
    )
    return 1
  }
}
