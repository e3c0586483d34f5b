/**
 * Where an issuer's keys come from, as the verifier asks for them: the {@link KeySource} interface,
 * its state for `health()`, and the two sources that never change (a configured JWK Set, an
 * issuer's one configured key). The remote source, fetched from a JWKS endpoint, is jwks.ts.
 */
import type { VerificationKey } from './jwk.js'
import type { KeySet } from './key-set.js'

/** Where an issuer's keys come from. */
export interface KeySource {
  /**
   * The keys a token with this `kid` may use. Resolves to an empty list when none match (after
   * a refetch, if the cooldown allows one); rejects with {@link KeysUnavailableError} when no
   * usable key set could be had. `now` is monotonic milliseconds (clock.ts).
   */
  find(
    kid: string | undefined,
    now: number,
  ): readonly VerificationKey[] | Promise<readonly VerificationKey[]>
  /** Changes whenever the set of keys is replaced by a different one. */
  readonly generation: number
  /**
   * True when the keys never change: {@link KeySource.find} then answers without reading its
   * `now`, and a verified-token cache hit need not read the monotonic clock for it.
   */
  readonly fixed: boolean
  /** What the source knows of its keys, for `health()` and the metrics: no network, no fetch. */
  state(now: number): KeySourceState
}

/** A key source's state (health.ts describes each `state`). */
export interface KeySourceState {
  readonly state: 'static' | 'fresh' | 'stale' | 'cooling_down' | 'failing' | 'never_loaded'
  /** Keys that serve now. */
  readonly keys: number
  /** Wall-clock epoch milliseconds of the last successful fetch, or `null`. */
  readonly lastFetchAt: number | null
  /** The fixed description of the last fetch's failure, or `null` when it succeeded. */
  readonly lastError: string | null
}

/** Thrown by {@link KeySource.find} when an issuer's keys cannot be had and none are cached. */
export class KeysUnavailableError extends Error {
  override name = 'KeysUnavailableError'
}

/** A key source that never changes: a configured JWK Set (`keys`), matched by `kid`. */
export class StaticKeySource implements KeySource {
  readonly generation = 0
  readonly fixed = true
  readonly #set: KeySet
  constructor(set: KeySet) {
    this.#set = set
  }
  find(kid: string | undefined): readonly VerificationKey[] {
    return this.#set.match(kid)
  }
  state(): KeySourceState {
    return { state: 'static', keys: this.#set.keys.length, lastFetchAt: null, lastError: null }
  }
}

/**
 * An issuer's one configured key, its HMAC `secret` or its `publicKey`: the key of every token,
 * whatever `kid` it names (many issuers send one), so there is nothing to choose between.
 */
export class SingleKeySource implements KeySource {
  readonly generation = 0
  readonly fixed = true
  readonly #keys: readonly VerificationKey[]
  constructor(key: VerificationKey) {
    this.#keys = Object.freeze([key])
  }
  find(): readonly VerificationKey[] {
    return this.#keys
  }
  state(): KeySourceState {
    return { state: 'static', keys: 1, lastFetchAt: null, lastError: null }
  }
}
