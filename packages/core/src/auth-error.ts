/**
 * `AuthError`, the one kind of error a request can end in, and `isAuthError`, which recognises one
 * even across duplicated installs of the package. Its message and status come from reasons.ts;
 * errors.ts builds its challenge.
 */
import { DESCRIPTIONS, STATUS, type AuthErrorCode, type AuthErrorReason } from './reasons.js'

/** The JSON body trustgate answers with. */
export interface AuthErrorBody {
  error: AuthErrorCode
  error_description: string
}

/** Response headers of an {@link AuthError}: what Express's default error handler applies. */
export interface AuthErrorHeaders {
  'WWW-Authenticate': string
  [name: string]: string
}

/**
 * A failed authentication or authorization. `status`/`statusCode` and `headers` follow the
 * convention of http-errors, so Express's default handler and Fastify's reply both understand it.
 */
export class AuthError extends Error {
  override name = 'AuthError'
  readonly code: AuthErrorCode
  readonly reason: AuthErrorReason
  readonly status: number
  readonly statusCode: number
  readonly headers: Readonly<AuthErrorHeaders>
  /** Tells http-errors-aware handlers that the message is safe to show the client. */
  readonly expose = true

  /** Prefer the factories of errors.ts: they keep code, reason and status consistent. */
  constructor(
    code: AuthErrorCode,
    reason: AuthErrorReason,
    challenge: string,
    extraHeaders?: Readonly<Record<string, string>>,
  ) {
    super(DESCRIPTIONS[reason])
    this.code = code
    this.reason = reason
    this.status = this.statusCode = STATUS[code]
    this.headers = Object.freeze({ ...extraHeaders, 'WWW-Authenticate': challenge })
    // A short fixed line, no frames: every AuthError is made by the same factory, so frames say
    // nothing, and Express's final handler prints `err.stack` for each error it is given
    // (pillarjs/finalhandler), about 1 KB per refused request with frames (issue 9, item 5).
    this.stack = `AuthError: ${DESCRIPTIONS[reason]}`
  }

  /** The response body: `{ error, error_description }`. */
  toJSON(): AuthErrorBody {
    return { error: this.code, error_description: this.message }
  }

  /**
   * One short line for `console.error(err)` and `util.inspect`: Express 5's final handler logs
   * every error it is given that way, which would otherwise print the stack, the headers and every
   * field, about 1 KB per refused request under a flood (issue 9, item 5).
   */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `AuthError: ${this.message} (${this.code}/${this.reason})`
  }
}

// The cross-install check of isAuthError: every field an adapter reads to answer, with the type
// and value an AuthError of this version would have.
function hasAuthErrorShape(value: Error): boolean {
  const { name, message, code, reason, status, statusCode, headers, toJSON } = value as Error &
    Record<string, unknown>
  if (name !== 'AuthError' || typeof message !== 'string' || typeof toJSON !== 'function') {
    return false
  }
  if (typeof code !== 'string' || !Object.hasOwn(STATUS, code)) return false
  if (typeof reason !== 'string' || !Object.hasOwn(DESCRIPTIONS, reason)) return false
  const expected = STATUS[code as AuthErrorCode]
  if (status !== expected || statusCode !== expected) return false
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return false
  const values = headers as Record<string, unknown>
  if (typeof values['WWW-Authenticate'] !== 'string') return false
  return Object.values(values).every((header) => typeof header === 'string')
}

/**
 * True if `value` is an {@link AuthError}: an instance of this class, or, across duplicated
 * installs of the package, an Error of exactly its shape: `name` 'AuthError', a known `code` and
 * `reason`, the `status` and `statusCode` of that code, `headers` of strings with a
 * `WWW-Authenticate`, and `toJSON`. A look-alike that misses any of them is not one: adapters answer
 * an AuthError with its own status and headers, and anything else is an unexpected error (500).
 * Never throws, whatever `value` is (a Proxy, a getter that throws).
 */
export function isAuthError(value: unknown): value is AuthError {
  try {
    if (value instanceof AuthError) return true
    return value instanceof Error && hasAuthErrorShape(value)
  } catch {
    return false
  }
}
