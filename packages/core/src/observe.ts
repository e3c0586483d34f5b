/**
 * Every verification outcome, observable without a log line: published on `diagnostics_channel`
 * (`trustgate:verify`, and `trustgate:jwks` for key-set events) and, when the options ask for it,
 * recorded as OpenTelemetry metrics (metrics.ts).
 *
 * Nothing is built when nobody listens: the verifier asks {@link Observer.active} (one getter of
 * the channel and one field) before it reads a clock or allocates a message. Messages carry the
 * configured issuer (never the token's `iss`, which an attacker chooses), the outcome, `code`,
 * `reason`, whether the cache answered, and the duration; never a token, a claim or a header.
 */
import { channel } from 'node:diagnostics_channel'
import { isAuthError } from './auth-error.js'
import type { AuthErrorCode, AuthErrorReason } from './reasons.js'
import type { VerifierMetrics } from './metrics.js'

/** The channel of verification outcomes: one {@link VerifyMessage} per verified or refused token. */
export const VERIFY_CHANNEL = 'trustgate:verify'
/** The channel of key-set events: one {@link JwksMessage} per JWKS fetch that settles. */
export const JWKS_CHANNEL = 'trustgate:jwks'

const verifyChannel = channel(VERIFY_CHANNEL)
const jwksChannel = channel(JWKS_CHANNEL)

/**
 * `accepted`: a principal; `refused`: an `AuthError` (its `code` and `reason` say why); `error`:
 * anything else (a bug or a failing dependency: the request ends in a 500).
 */
export type VerifyOutcome = 'accepted' | 'refused' | 'error'

/** What `trustgate:verify` publishes. */
export interface VerifyMessage {
  /**
   * The configured issuer the token was checked against; `null` when it named none (refused as
   * `untrusted_issuer`, or before: a malformed token or header). Never the token's own `iss`.
   */
  readonly issuer: string | null
  readonly outcome: VerifyOutcome
  readonly code: AuthErrorCode | null
  readonly reason: AuthErrorReason | null
  /** True when the verified-token cache answered. */
  readonly cached: boolean
  /** Milliseconds from the start of the verification to its outcome. */
  readonly durationMs: number
}

/** What `trustgate:jwks` publishes. */
export interface JwksMessage {
  /** The configured issuer whose keys were fetched. */
  readonly issuer: string
  /**
   * `updated`: a new key set replaced the old one (or the first was loaded); `unchanged`: the
   * refetched set holds the same keys; `failed`: the fetch failed and the cached keys (if any) stay.
   */
  readonly event: 'updated' | 'unchanged' | 'failed'
  /** Keys the issuer serves from now on. */
  readonly keys: number
  /** For `failed`: a fixed description (status, timeout, size, parse); never a response body. */
  readonly error: string | null
  readonly durationMs: number
}

/** Filled in by the verifier as a traced verification goes: which issuer, from the cache or not. */
export interface Trace {
  readonly start: number
  issuer: string | null
  cached: boolean
}

/** The observer of one verifier: its metrics (if any) and the process-wide channels. */
export class Observer {
  readonly #metrics: VerifierMetrics | undefined

  constructor(metrics: VerifierMetrics | undefined) {
    this.#metrics = metrics
  }

  /** True when an outcome would be seen by anyone: check it before building anything. */
  get active(): boolean {
    return this.#metrics !== undefined || verifyChannel.hasSubscribers
  }

  /** True when a key-set event would be seen by anyone. */
  get jwksActive(): boolean {
    return this.#metrics !== undefined || jwksChannel.hasSubscribers
  }

  /** A new trace, when {@link Observer.active}. */
  trace(): Trace {
    return { start: performance.now(), issuer: null, cached: false }
  }

  /** Publishes the outcome of a traced verification: `error` is what it threw, if it did. */
  settle(trace: Trace, failed: boolean, error?: unknown): void {
    const refused = failed && isAuthError(error)
    const message: VerifyMessage = {
      issuer: trace.issuer,
      outcome: failed ? (refused ? 'refused' : 'error') : 'accepted',
      code: refused ? error.code : null,
      reason: refused ? error.reason : null,
      cached: trace.cached,
      durationMs: performance.now() - trace.start,
    }
    if (verifyChannel.hasSubscribers) verifyChannel.publish(message)
    this.#metrics?.verification(message)
  }

  /** Publishes a key-set event. */
  jwks(message: JwksMessage): void {
    if (jwksChannel.hasSubscribers) jwksChannel.publish(message)
    this.#metrics?.jwks(message)
  }
}
