/**
 * The remote key source of an issuer with a JWKS endpoint (key-source.ts has the interface and the
 * fixed sources). It fetches its issuer's JWK Set on first need, shares one
 * request among concurrent callers, serves cached keys while it refreshes or while the issuer is
 * down, and refetches for an unknown `kid` at most once per cooldown, so a spray of made-up kids
 * cannot turn the API into an amplifier against the IdP (compare panva/jose:src/jwks/remote.ts and
 * the penalty box of awslabs/aws-jwt-verify:src/jwk.ts). No timer is kept between requests.
 */
import { MAX_KID_LENGTH, type VerificationKey } from './jwk.js'
import type { Clock } from './clock.js'
import { fetchJson, FetchError } from './fetch.js'
import { parseJwks, type KeySet, type ParsedKeySet } from './key-set.js'
import { KeysUnavailableError, type KeySource, type KeySourceState } from './key-source.js'
import { MAX_LOGGED_URL, sanitize, type Logger } from './log.js'
import type { JwksMessage, Observer } from './observe.js'

/**
 * Most requests that may wait, per issuer, for its key set to arrive; beyond it a request is
 * answered `jwks_unavailable` (503) at once. A waiting request holds its token string and a few
 * small objects (its decoded header and payload are dropped while it waits, see verifier.ts), so
 * the cap bounds what a slow or hanging JWKS endpoint lets a flood of requests pile up. 10000 is
 * ten times the concurrency of a busy Node process, and the cold-cache burst that
 * test/security/floods.test.ts sends through each adapter.
 */
export const MAX_KEY_WAITERS = 10_000

/** Timing of a remote key source, in milliseconds. */
export interface JwksTiming {
  readonly cacheMaxAge: number
  readonly cooldownDuration: number
  readonly timeoutDuration: number
  /** After this long without a successful fetch, the cached keys stop serving. */
  readonly maxStale: number
}

/**
 * An issuer's JWKS endpoint, fixed or found by discovery. Every interval is measured on the
 * monotonic clock (see clock.ts):
 * - `cacheMaxAge` after the last successful fetch, the next use refreshes the set in the background
 *   and the cached keys keep serving; this refresh does not wait for the cooldown (issue 9,
 *   item 12: API.md says "after it, the next use refreshes it");
 * - the cooldown spaces the fetches that requests could otherwise repeat at will: refetches for an
 *   unknown `kid`, and retries after a failed fetch;
 * - `maxStale` after the last successful fetch, the cached keys stop serving: a request waits for
 *   a fetch (or gets `jwks_unavailable`), so a key the issuer removed cannot be kept usable by
 *   breaking the path to the issuer (issue 9, item 10).
 */
export class RemoteKeySource implements KeySource {
  readonly fixed = false
  #set: KeySet | undefined
  #generation = 0
  /** When the last successful fetch ended. */
  #fetchedAt = Number.NEGATIVE_INFINITY
  /** When the last fetch started, or ended if it failed: the cooldown runs from it. */
  #lastAttempt = Number.NEGATIVE_INFINITY
  #lastFailed = false
  #inflight: Promise<void> | undefined
  /** Requests waiting in {@link RemoteKeySource.find} for a fetch to settle. */
  #waiters = 0
  /** The JWKS URL of the last fetch: the configured one, or the last one discovered. */
  #url: URL | undefined
  readonly #issuer: string
  readonly #discover: (() => Promise<URL>) | undefined
  readonly #timing: JwksTiming
  readonly #logger: Logger
  readonly #clock: Clock
  /** Why the last fetch failed (a fixed description), `null` after a success. */
  #lastError: string | null = null
  /** Wall-clock time of the last successful fetch, for `health()`. */
  #lastFetchAt: number | null = null
  readonly #observer: Observer | undefined

  constructor(
    issuer: string,
    location: URL | (() => Promise<URL>),
    timing: JwksTiming,
    logger: Logger,
    clock: Clock,
    observer?: Observer,
  ) {
    this.#issuer = issuer
    if (location instanceof URL) this.#url = location
    else this.#discover = location
    this.#timing = timing
    this.#logger = logger
    this.#clock = clock
    this.#observer = observer
  }

  state(now: number): KeySourceState {
    const lastError = this.#lastError
    const failed = lastError !== null
    // A set past `maxStale` no longer serves: as good as none.
    const set = now - this.#fetchedAt < this.#timing.maxStale ? this.#set : undefined
    let state: KeySourceState['state']
    if (set !== undefined) {
      state = !failed && now - this.#fetchedAt < this.#timing.cacheMaxAge ? 'fresh' : 'stale'
    } else if (this.#set === undefined && !failed) {
      state = 'never_loaded'
    } else {
      state = now - this.#lastAttempt < this.#timing.cooldownDuration ? 'cooling_down' : 'failing'
    }
    return { state, keys: set?.keys.length ?? 0, lastFetchAt: this.#lastFetchAt, lastError }
  }

  get generation(): number {
    return this.#generation
  }

  find(
    kid: string | undefined,
    now: number,
  ): readonly VerificationKey[] | Promise<readonly VerificationKey[]> {
    const set = this.#set
    const age = now - this.#fetchedAt
    if (set === undefined || age >= this.#timing.maxStale) return this.#wait(kid, now)
    if (
      age >= this.#timing.cacheMaxAge &&
      this.#inflight === undefined &&
      (!this.#lastFailed || this.#cooledDown(now))
    ) {
      // Due for a refresh: start it for the next callers, answer from the cached set meanwhile.
      void this.#refresh(now)
    }
    const keys = set.match(kid)
    if (keys.length > 0) return keys
    // A kid no key of ours can carry is unknown for good: no refetch for it.
    if (kid !== undefined && kid.length > MAX_KID_LENGTH) return keys
    if (this.#inflight !== undefined || this.#cooledDown(now)) return this.#wait(kid, now)
    return keys
  }

  #cooledDown(now: number): boolean {
    return now - this.#lastAttempt >= this.#timing.cooldownDuration
  }

  /**
   * Waits for the fetch in flight, or starts one if the cooldown allows it, then matches `kid`
   * in the set, if it may still serve. At most {@link MAX_KEY_WAITERS} requests wait at once:
   * the others are answered `jwks_unavailable` at once rather than held (issue 9, item 4).
   */
  #wait(kid: string | undefined, now: number): Promise<readonly VerificationKey[]> {
    if (this.#waiters >= MAX_KEY_WAITERS) {
      return Promise.reject(new KeysUnavailableError('too many requests wait for the key set'))
    }
    this.#waiters++
    return this.#load(kid, now).finally(() => {
      this.#waiters--
    })
  }

  async #load(kid: string | undefined, now: number): Promise<readonly VerificationKey[]> {
    if (this.#inflight !== undefined) await this.#inflight
    else if (this.#cooledDown(now)) await this.#refresh(now)
    const set = this.#set
    if (set === undefined || this.#clock.monotonic() - this.#fetchedAt >= this.#timing.maxStale) {
      throw new KeysUnavailableError('no usable key set could be fetched')
    }
    return set.match(kid)
  }

  /** One fetch, shared by every caller until it settles. Never rejects: failures are logged. */
  #refresh(now: number): Promise<void> {
    this.#lastAttempt = now
    const inflight = this.#fetch().finally(() => {
      this.#inflight = undefined
    })
    this.#inflight = inflight
    return inflight
  }

  async #fetch(): Promise<void> {
    const issuer = this.#issuer
    // The clock is read for the jwks channel and metrics only when someone listens.
    const observed = this.#observer?.jwksActive === true
    const started = observed ? performance.now() : 0
    let parsed: ParsedKeySet
    try {
      // Discovery is read again for every fetch, so that a corrected document is followed
      // (issue 9, item 9); a failed discovery is a failed fetch.
      if (this.#discover !== undefined) this.#url = await this.#discover()
      const url = this.#url as URL
      parsed = parseJwks(await fetchJson(url, this.#timing.timeoutDuration), this.#set)
      if (parsed.set.keys.length === 0) throw new FetchError('JWK Set has no usable key')
    } catch (error) {
      // The cooldown runs from the end of a failed fetch too, so that a fetch slower than the
      // cooldown (a hanging IdP) is not retried back to back.
      this.#lastAttempt = this.#clock.monotonic()
      this.#lastFailed = true
      // A fixed description for health(): FetchError messages name a status, a timeout, a size or
      // a parse failure, never a response body.
      this.#lastError = error instanceof FetchError ? error.message : 'unknown error'
      if (observed) this.#report('failed', started)
      this.#logger.error(
        {
          event: 'jwks_fetch_failed',
          issuer,
          // A discovered URL is the issuer's to choose: cut, like any value we did not configure.
          jwksUri: sanitize(this.#url?.href, MAX_LOGGED_URL),
          error: error instanceof Error ? error.message : 'unknown error',
          cachedKeys: this.#set?.keys.length ?? 0,
        },
        'trustgate could not fetch the issuer keys',
      )
      return
    }
    this.#lastFailed = false
    this.#fetchedAt = this.#clock.monotonic()
    // A key published for encryption (`use: enc`, as Keycloak publishes its realm key beside the
    // signing key) is meant to be skipped: no fault of the set, and no warning on every refresh.
    const faults = [...parsed.skipped].filter(([why]) => why !== 'not_for_signatures')
    if (faults.length > 0) {
      this.#logger.warn(
        { event: 'jwks_keys_skipped', issuer, skipped: Object.fromEntries(faults) },
        'trustgate skipped keys it cannot verify with',
      )
    }
    const previous = this.#set
    this.#lastFetchAt = this.#clock.now()
    this.#lastError = null
    if (previous !== undefined && previous.sameAs(parsed.set)) {
      if (observed) this.#report('unchanged', started)
      return
    }
    this.#set = parsed.set
    this.#generation++
    if (observed) this.#report('updated', started)
    // Counts, not lists of kids: the line stays small whatever the set holds.
    this.#logger.info(
      {
        event: 'jwks_updated',
        issuer,
        keys: parsed.set.keys.length,
        ...parsed.set.changesFrom(previous),
      },
      'trustgate loaded the issuer keys',
    )
  }

  #report(event: JwksMessage['event'], started: number): void {
    this.#observer?.jwks({
      issuer: this.#issuer,
      event,
      keys: this.#set?.keys.length ?? 0,
      error: event === 'failed' ? this.#lastError : null,
      durationMs: performance.now() - started,
    })
  }
}
