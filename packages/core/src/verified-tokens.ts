/**
 * The verified-token cache of one verifier: what a token that passed steps 2-7 leaves behind, and
 * the checks that decide, on every later request with the same token, whether that outcome still
 * holds (its times on the wall clock, the issuer's match, the key that verified it). The storage,
 * bounded by count and bytes, is token-cache.ts; the order of the checks is verifier.ts's.
 */
import type { Clock } from './clock.js'
import type { IssuerPolicy } from './issuer-config.js'
import type { IssuerMatch, IssuerMatcher } from './issuers.js'
import type { VerificationKey } from './jwk.js'
import type { Trace } from './observe.js'
import type { Principal } from './principal.js'
import {
  BoundedLru,
  estimateEntryBytes,
  TOKEN_CACHE_HEAVY_ENTRY_BYTES,
  TOKEN_CACHE_MAX_BYTES,
  TOKEN_CACHE_MAX_ENTRY_BYTES,
} from './token-cache.js'
import type { JsonObject } from './token.js'

/** A verified token, as the cache keeps it. */
export interface VerifiedToken {
  /** The whole token: the entry answers for this token and no other. */
  readonly token: string
  readonly principal: Principal
  readonly policy: IssuerPolicy
  readonly match: IssuerMatch
  readonly kid: string | undefined
  readonly key: VerificationKey
  readonly exp: number | undefined
  readonly nbf: number | undefined
  readonly iat: number | undefined
  /** The token carries `cnf`: its sender constraint (STEP 8) has something to check. */
  readonly bound: boolean
  /**
   * Whether a hit must read the monotonic clock: the issuer's keys can change (a remote key
   * source) or its match expires (a `resolveIssuer` answer). Configured issuers with configured
   * keys need no second clock read per hit.
   */
  readonly timed: boolean
}

/**
 * The verified-token cache is keyed on the last 16 characters of the token (96 bits of its
 * signature), and each entry holds the whole token, compared in full on every hit. A request's
 * token is a new string each time, whose hash V8 computes over every character before a `Map`
 * can look it up: about 1.1 us for a 900-character token, a tenth of a whole Fastify request,
 * against 0.06 us for 16 characters and a full comparison (memcmp). Two tokens that share the
 * suffix share a slot (a forger can copy a signature), and only the token in it is answered for:
 * any other is verified in full, as without a cache, and a refused one never takes the slot.
 */
const CACHE_KEY_CHARS = 16
function cacheKey(token: string): string {
  return token.length <= CACHE_KEY_CHARS ? token : token.slice(token.length - CACHE_KEY_CHARS)
}

/** The verified tokens of one verifier. */
export class VerifiedTokens {
  readonly #entries: BoundedLru<VerifiedToken>
  readonly #matcher: IssuerMatcher
  readonly #clock: Clock

  constructor(max: number, matcher: IssuerMatcher, clock: Clock) {
    this.#entries = new BoundedLru<VerifiedToken>({
      max,
      maxBytes: TOKEN_CACHE_MAX_BYTES,
      maxEntryBytes: TOKEN_CACHE_MAX_ENTRY_BYTES,
      heavyEntryBytes: TOKEN_CACHE_HEAVY_ENTRY_BYTES,
      sizeOf: (entry) => estimateEntryBytes(entry.token, entry.principal),
    })
    this.#matcher = matcher
    this.#clock = clock
  }

  /**
   * The entry of `token`, if it was verified before and every rule still holds at `nowMs` (wall
   * clock); a stale entry is dropped. Fills in `trace` on a hit.
   */
  get(token: string, nowMs: number, trace: Trace | undefined): VerifiedToken | undefined {
    const key = cacheKey(token)
    const entry = this.#entries.get(key)
    // Another token with the same last characters is not this one.
    if (entry?.token !== token) return undefined
    const { policy } = entry
    const now = nowMs / 1000
    const tolerance = policy.clockTolerance
    // Intervals (key-set age, resolver answers) are on the monotonic clock (clock.ts), read only
    // when one of them can run out: for configured keys and issuers it would decide nothing.
    const monoMs = entry.timed ? this.#clock.monotonic() : 0
    const keys = policy.keys.find(entry.kid, monoMs)
    // A refetch it started is shared with the full path; its outcome is not needed here.
    if (keys instanceof Promise) keys.catch(() => undefined)
    // The clock is read on every hit: the entry never outlives `exp`, and a clock set back
    // before `nbf` or `iat` (tolerance included) is honoured as on the full path.
    const stillValid =
      (entry.exp === undefined || entry.exp > now - tolerance) &&
      (entry.nbf === undefined || entry.nbf <= now + tolerance) &&
      (entry.iat === undefined || entry.iat <= now + tolerance) &&
      (policy.maxTokenAge === undefined ||
        (entry.iat !== undefined && now - entry.iat - tolerance <= policy.maxTokenAge)) &&
      // A resolved issuer's answer expires, and a tenant can be removed from `tenants`.
      this.#matcher.holds(entry.match, monoMs) &&
      // The key that verified it must still be in the issuer's current set (rotation, removal).
      Array.isArray(keys) &&
      keys.includes(entry.key)
    if (stillValid) {
      if (trace !== undefined) {
        trace.cached = true
        trace.issuer = policy.issuer
      }
      return entry
    }
    this.#entries.delete(key)
    return undefined
  }

  /** Keeps a token that passed every check of steps 2-7, with what a hit must check again. */
  remember(
    token: string,
    principal: Principal,
    match: IssuerMatch,
    kid: string | undefined,
    key: VerificationKey,
    payload: JsonObject,
  ): void {
    const { policy } = match
    this.#entries.set(cacheKey(token), {
      token,
      principal,
      policy,
      match,
      kid,
      key,
      // Numbers, or absent: checkClaims has refused any other value.
      exp: payload.exp as number | undefined,
      nbf: payload.nbf as number | undefined,
      iat: payload.iat as number | undefined,
      bound: payload.cnf !== undefined,
      timed: !policy.keys.fixed || match.until !== Infinity,
    })
  }
}
