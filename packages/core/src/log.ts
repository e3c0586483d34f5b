/**
 * Logging: the default pino logger, sanitising of attacker-chosen strings, and the sampler that
 * keeps a flood of untrusted-issuer tokens from filling a disk.
 */
import { pino } from 'pino'
import type { ClientCertificate } from './mtls.js'

/** The part of a pino logger trustgate uses; any pino logger (or `app.log`) fits. */
export interface Logger {
  /**
   * Every rejection's `code` and `reason`, sampled (see rejections.ts). Optional, so that a
   * logger written for an earlier version still fits: without it, rejections are not logged.
   */
  debug?(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

/**
 * What the core may read of a request: where it came from, for log lines, and what per-request
 * checks need. Adapters fill it from the framework's request with getters, read only when needed.
 */
export interface RequestContext {
  readonly reqId?: string | number | undefined
  readonly remoteAddress?: string | undefined
  /**
   * The client certificate of this request (RFC 8705): the TLS peer certificate of its socket, or
   * the one a trusted proxy forwarded, from the adapter's `getClientCertificate`. Read only for a
   * certificate-bound token. May throw `MalformedCertificateError` for an unreadable header.
   */
  readonly clientCertificate?: ClientCertificate | null | undefined
  /** The HTTP method, as sent (`htm`, RFC 9449 s4.3). */
  readonly method?: string | undefined
  /**
   * The absolute URL of the request, made of the configured public origin and the path of the
   * request line, never of a `Host` or forwarded header (`htu`, RFC 9449 s4.3); see `requestUrl`.
   */
  readonly url?: string | undefined
  /** The values of every `DPoP` header, from `rawHeaders` (see `dpopValues`). */
  readonly dpop?: readonly string[] | undefined
}

/** The logger used when none is given: pino at level `info`. */
export function createDefaultLogger(): Logger {
  return pino({ level: 'info', name: 'trustgate' })
}

/** Longest `iss` written to a log line. */
export const MAX_LOGGED_ISS = 256
/** Longest `kid` or `alg` written to a log line: both are attacker-chosen too. */
export const MAX_LOGGED_PARAM = 128
/** Longest URL written to a log line: a discovered `jwks_uri` is the issuer's to choose. */
export const MAX_LOGGED_URL = 512
/** The length of one sampling window; API.md caps it at 5 s. */
export const LOG_SAMPLE_WINDOW_MS = 5000
/** Lines written per window; the rest are counted and reported as `suppressed`. */
export const LOG_SAMPLE_LINES = 5

// C0, DEL, C1, and the Unicode line and paragraph separators that some viewers break lines on.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

/**
 * Makes an attacker-chosen value safe for a log line: cut to `max` characters, control
 * characters escaped as `\uXXXX`, so it cannot forge or split lines. Non-strings become `undefined`.
 */
export function sanitize(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined
  const cut = value.length > max ? value.slice(0, max) : value
  return cut.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * Lets at most `lines` calls through per window of `windowMs`, and counts the others. The next
 * call let through carries that count, so nothing is lost silently. Uses no timer: the window
 * moves only when a call arrives. Its `now` is monotonic time (clock.ts): on the wall clock, a step
 * back of an hour stopped every line for that hour (issue 9, item 11).
 */
export class LogSampler {
  #windowStart = Number.NEGATIVE_INFINITY
  #written = 0
  #suppressed = 0
  readonly #lines: number
  readonly #windowMs: number

  constructor(lines = LOG_SAMPLE_LINES, windowMs = LOG_SAMPLE_WINDOW_MS) {
    this.#lines = lines
    this.#windowMs = windowMs
  }

  /**
   * Returns the suppressed count to log with this line, or `undefined` to drop the line. `now` is
   * monotonic milliseconds.
   */
  take(now: number): number | undefined {
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now
      this.#written = 0
    }
    if (this.#written >= this.#lines) {
      this.#suppressed++
      return undefined
    }
    this.#written++
    const suppressed = this.#suppressed
    this.#suppressed = 0
    return suppressed
  }
}
