/**
 * The `doctor` command: its arguments (checked before anything is fetched), the report printed as
 * text or `--json`, and the exit code: 0 healthy, 1 not healthy. Bad usage throws a
 * {@link UsageError} (exit 2).
 */
import { parseArgs } from 'node:util'
import { JWKS_TIMEOUT_MS } from '@trustgate/core'
import { UsageError } from '../errors.js'
import type { CliIo } from '../io.js'
import { formatDoctor } from './format.js'
import { runDoctor } from './run.js'

/** Runs `trustgate doctor ...args` and resolves to the exit code. */
export async function doctor(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      audience: { type: 'string' },
      'jwks-uri': { type: 'string' },
      json: { type: 'boolean', default: false },
      timeout: { type: 'string' },
    },
  })
  if (positionals.length !== 1) throw new UsageError('doctor takes exactly one issuer')
  const issuer = positionals[0] as string
  let timeoutMs = JWKS_TIMEOUT_MS
  if (values.timeout !== undefined) {
    timeoutMs = Number(values.timeout)
    if (!/^\d+$/.test(values.timeout) || !Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
      throw new UsageError('--timeout must be a whole number of milliseconds >= 1')
    }
  }
  for (const [name, value] of [
    ['issuer', issuer],
    ['--jwks-uri', values['jwks-uri']],
  ] as const) {
    if (value !== undefined && !URL.canParse(value)) {
      throw new UsageError(`${name} must be an absolute URL`)
    }
  }
  const report = await runDoctor({
    issuer,
    audience: values.audience,
    jwksUri: values['jwks-uri'],
    timeoutMs,
  })
  io.stdout(values.json ? JSON.stringify(report, null, 2) : formatDoctor(report))
  return report.healthy ? 0 : 1
}
