/**
 * Replay detection for one-time values such as DPoP proof `jti`s (RFC 9449 s11.1). A store says
 * whether a key is claimed for the first time within its time to live; the verifier asks only
 * after every other check of a proof has passed, so that an invalid proof cannot burn a `jti`.
 */
import { fail } from './options.js'

/**
 * Remembers claimed keys, for at least their time to live. Shared by every instance behind one
 * API when it is backed by shared storage (`@trustgate/redis`); the memory store serves one
 * process.
 */
export interface ReplayStore {
  /**
   * Claims `key` for `ttlMs` milliseconds. `true` the first time the key is claimed within its
   * time to live; `false` when it is already claimed, or when the store cannot take it (full, or
   * unreachable in a store that fails closed). A store that throws or rejects fails the request.
   */
  claim(key: string, ttlMs: number): boolean | Promise<boolean>
}

/** Options of {@link createMemoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /** Most keys held at once. Default 100000. A full store refuses new keys (fails closed). */
  max?: number
}

/** The memory store answers at once: a request it serves needs no promise for its claim. */
export interface MemoryReplayStore extends ReplayStore {
  claim(key: string, ttlMs: number): boolean
}

// The stores made here: their claims never return a promise, so a request needs none for them.
const synchronous = new WeakSet<ReplayStore>()

/** True for a store made by {@link createMemoryReplayStore}: its claims answer at once. */
export function isSynchronousStore(store: ReplayStore): boolean {
  return synchronous.has(store)
}

/** Default bound of the memory replay store: some 10 MiB of keys of 43 characters. */
export const REPLAY_STORE_MAX = 100_000

// Expired keys met at the old end of the map are dropped on each claim, at most this many: the
// store shrinks with the traffic that fills it, and no claim pays for a long walk.
const RECLAIM_PER_CLAIM = 2

/**
 * A bounded in-memory {@link ReplayStore} for one process. It never forgets a key before its time
 * to live: when it holds `max` live keys it refuses new ones (a request is refused rather than a
 * replay let through), and it keeps no timer. Expired keys are reclaimed lazily, a few on every
 * claim, and all at once when the store is full. Time is the monotonic clock, so a wall clock set
 * forward does not expire keys early.
 */
export function createMemoryReplayStore(options: MemoryReplayStoreOptions = {}): MemoryReplayStore {
  if (typeof options !== 'object' || (options as unknown) === null) {
    fail('createMemoryReplayStore options', 'must be an object')
  }
  const { max = REPLAY_STORE_MAX } = options
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1) {
    fail('max', 'must be an integer >= 1')
  }
  // key -> monotonic time (ms) at which it may be claimed again. A Map keeps insertion order, and
  // a key claimed again is moved to the end, so the oldest claims come first.
  const expiries = new Map<string, number>()
  // While the store is full, a full sweep before this time would reclaim nothing.
  let sweepAfter = Number.NEGATIVE_INFINITY

  function reclaimOldest(now: number): void {
    let n = 0
    for (const [key, expiry] of expiries) {
      if (expiry > now || n++ === RECLAIM_PER_CLAIM) return
      expiries.delete(key)
    }
  }

  function sweep(now: number): void {
    let next = Number.POSITIVE_INFINITY
    for (const [key, expiry] of expiries) {
      if (expiry <= now) expiries.delete(key)
      else if (expiry < next) next = expiry
    }
    sweepAfter = next
  }

  function claim(key: string, ttlMs: number): boolean {
    if (typeof key !== 'string' || key === '') throw new TypeError('key must be a non-empty string')
    if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new TypeError('ttlMs must be a finite number > 0')
    }
    const now = performance.now()
    const expiry = expiries.get(key)
    if (expiry !== undefined) {
      if (expiry > now) return false
      expiries.delete(key)
    }
    reclaimOldest(now)
    if (expiries.size >= max) {
      if (now >= sweepAfter) sweep(now)
      // Fail closed: forgetting a live key would let its replay through.
      if (expiries.size >= max) return false
    }
    expiries.set(key, now + ttlMs)
    return true
  }
  const store = Object.freeze({ claim })
  synchronous.add(store)
  return store
}
