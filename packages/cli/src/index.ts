/**
 * `@trustgate/cli`: the `trustgate` command. `run()` takes the arguments and the streams, so that
 * the bin is one line; the tests run the bin itself, as a child process.
 *
 * Exit codes: 0 healthy / valid, 1 a check failed / the token is refused, 2 bad usage.
 */
import { parseArgs } from 'node:util'
import { JWKS_TIMEOUT_MS } from '@trustgate/core'
import { formatDoctor, runDoctor } from './doctor.js'
import {
  formatInspect,
  inspectToken,
  loadConfig,
  MalformedTokenError,
  tokenFromInput,
  UsageError,
} from './inspect.js'

export {
  describeDifference,
  formatDoctor,
  runDoctor,
  type Check,
  type CheckId,
  type DoctorOptions,
  type DoctorReport,
  type Verdict as CheckVerdict,
} from './doctor.js'
export {
  formatInspect,
  inspectToken,
  UsageError,
  type InspectReport,
  type Verdict,
} from './inspect.js'

/** Where the command reads and writes. */
export interface CliIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  /** All of standard input, as text. */
  readonly stdin: () => Promise<string>
}

/** Longest standard input `inspect` reads: far above any token a verifier accepts. */
export const MAX_STDIN_BYTES = 1024 * 1024

const USAGE = `usage:
  trustgate doctor <issuer> [--audience a] [--jwks-uri u] [--json] [--timeout ms]
  trustgate inspect [--config file.json|file.js] [--json] < token

doctor   fetches the issuer's discovery document and JWK Set with the verifier's limits and
         prints a verdict per check; exit 0 healthy, 1 not healthy, 2 bad usage
inspect  reads one token on standard input (never from the command line), prints its header and
         claims, untrusted; with --config, the verdict verify() would give; exit 0 valid (or no
         --config), 1 refused or not a JWT, 2 bad usage`

async function doctor(args: string[], io: CliIo): Promise<number> {
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

async function inspect(args: string[], io: CliIo): Promise<number> {
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

/** Runs `trustgate <command> ...args` and resolves to the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv
  try {
    switch (command) {
      case 'doctor':
        return await doctor(args, io)
      case 'inspect':
        return await inspect(args, io)
      case '--help':
      case '-h':
      case 'help':
        io.stdout(USAGE)
        return 0
      default:
        throw new UsageError(command === undefined ? 'a command is required' : 'unknown command')
    }
  } catch (error) {
    // parseArgs throws TypeErrors with a `code` for unknown or malformed options. Their messages
    // may quote an argument: only the code is printed, so a token pasted as an option never is.
    if (error instanceof UsageError) {
      io.stderr(`trustgate: ${error.message}\n\n${USAGE}`)
      return 2
    }
    if (
      error instanceof TypeError &&
      'code' in error &&
      String(error.code).startsWith('ERR_PARSE_ARGS')
    ) {
      io.stderr(`trustgate: bad arguments (${String(error.code)})\n\n${USAGE}`)
      return 2
    }
    throw error
  }
}
