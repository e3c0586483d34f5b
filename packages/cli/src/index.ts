/**
 * `@trustgate/cli`: the `trustgate` command. `run()` takes the arguments and the streams, so that
 * the bin is one line; the tests run the bin itself, as a child process.
 *
 * Exit codes: 0 healthy / valid, 1 a check failed / the token is refused, 2 bad usage.
 */
import { doctor } from './doctor/command.js'
import { UsageError } from './errors.js'
import { inspect } from './inspect/command.js'
import type { CliIo } from './io.js'

export { describeDifference } from './doctor/issuer.js'
export { formatDoctor } from './doctor/format.js'
export { runDoctor, type DoctorOptions, type DoctorReport } from './doctor/run.js'
export { type Check, type CheckId, type Verdict as CheckVerdict } from './doctor/check.js'
export { formatInspect } from './inspect/format.js'
export { inspectToken, type InspectReport } from './inspect/report.js'
export { type Verdict } from './inspect/verdict.js'
export { UsageError } from './errors.js'
export { type CliIo } from './io.js'
export { MAX_STDIN_BYTES } from './inspect/stdin.js'

const USAGE = `usage:
  trustgate doctor <issuer> [--audience a] [--jwks-uri u] [--json] [--timeout ms]
  trustgate inspect [--config file.json|file.js] [--json] < token

doctor   fetches the issuer's discovery document and JWK Set with the verifier's limits and
         prints a verdict per check; exit 0 healthy, 1 not healthy, 2 bad usage
inspect  reads one token on standard input (never from the command line), prints its header and
         claims, untrusted; with --config, the verdict verify() would give; exit 0 valid (or no
         --config), 1 refused or not a JWT, 2 bad usage`

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
