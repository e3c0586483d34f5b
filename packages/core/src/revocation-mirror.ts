/**
 * The local mirror of the revocation rules, and STEP 9's decision against it: the hot path of a
 * verifier with revocation on, run on every request (a verified-token cache hit included), so it
 * costs a few Map lookups and never a round trip to the store.
 *
 * The mirror is bounded by `max`. Every rule expires once no token it could match can still be
 * valid, and the age check here refuses tokens older than `maxTokenLifetime` (+ tolerance), so
 * expired rules are swept, never live ones: a mirror that has no room for a live rule says so,
 * and the verifier distrusts it until a full load fits.
 */
import type { InvalidTokenReason } from './reasons.js'
import type { Principal } from './principal.js'
import type { RevocationRecord } from './revocation-rules.js'

// Expired rules are swept from the mirror at most this often (ms), and whenever it is full.
const SWEEP_INTERVAL_MS = 60_000

interface Cutoff {
  before: number
  until: number
}

/**
 * The local copy of the rules, indexed for the hot path: tokens by issuer then `jti`, cut-offs by
 * principal key and by issuer. Bounded by `max`; expired rules are swept, never live ones.
 */
export class Mirror {
  readonly #jtis = new Map<string, Map<string, number>>()
  readonly #principals = new Map<string, Cutoff>()
  readonly #issuers = new Map<string, Cutoff>()
  readonly #max: number
  readonly #maxAge: number
  #size = 0
  #sweptAt = Number.NEGATIVE_INFINITY

  /** `max` rules at most; `maxAge`: the oldest token accepted, by `iat`, in seconds. */
  constructor(max: number, maxAge: number) {
    this.#max = max
    this.#maxAge = maxAge
  }

  /** Adds a record (the strictest cut-off and the longest `until` win); `false` when it is full. */
  add(record: RevocationRecord, now: number): boolean {
    const { until } = record
    if (until <= now) return true
    if ('jti' in record) {
      let jtis = this.#jtis.get(record.issuer)
      const known = jtis?.get(record.jti)
      if (known !== undefined) {
        if (until > known) jtis?.set(record.jti, until)
        return true
      }
      if (!this.#room(now)) return false
      if (jtis === undefined) this.#jtis.set(record.issuer, (jtis = new Map<string, number>()))
      jtis.set(record.jti, until)
    } else {
      const map = 'principal' in record ? this.#principals : this.#issuers
      const name = 'principal' in record ? record.principal : record.issuer
      const known = map.get(name)
      if (known !== undefined) {
        known.before = Math.max(known.before, record.before)
        known.until = Math.max(known.until, until)
        return true
      }
      if (!this.#room(now)) return false
      map.set(name, { before: record.before, until })
    }
    this.#size++
    return true
  }

  #room(now: number): boolean {
    if (this.#size < this.#max) return true
    this.sweep(now)
    return this.#size < this.#max
  }

  /** Drops expired rules; at most once per interval unless `force`. */
  sweep(now: number, force = true): void {
    if (!force && now * 1000 - this.#sweptAt < SWEEP_INTERVAL_MS) return
    this.#sweptAt = now * 1000
    for (const [issuer, jtis] of this.#jtis) {
      for (const [jti, until] of jtis) {
        if (until <= now) {
          jtis.delete(jti)
          this.#size--
        }
      }
      if (jtis.size === 0) this.#jtis.delete(issuer)
    }
    for (const map of [this.#principals, this.#issuers]) {
      for (const [name, cutoff] of map) {
        if (cutoff.until <= now) {
          map.delete(name)
          this.#size--
        }
      }
    }
  }

  /**
   * Why STEP 9 refuses the token, or `undefined`: no `iat`, older than `maxAge`, or a rule revokes
   * it. An expired rule that is still held cannot match a token that passed the age check, so
   * none is looked at twice.
   */
  refusal(principal: Principal, nowMs: number): InvalidTokenReason | undefined {
    const { iat } = principal.claims
    if (typeof iat !== 'number') return 'missing_iat'
    if (nowMs / 1000 - iat > this.#maxAge) return 'token_too_old'
    if (this.#size === 0) return undefined
    const byIssuer = this.#issuers.get(principal.issuer)
    if (byIssuer !== undefined && iat < byIssuer.before) return 'revoked'
    const byPrincipal = this.#principals.get(principal.key)
    if (byPrincipal !== undefined && iat < byPrincipal.before) return 'revoked'
    const { jti } = principal.claims
    return typeof jti === 'string' && this.#jtis.get(principal.issuer)?.has(jti) === true
      ? 'revoked'
      : undefined
  }
}
