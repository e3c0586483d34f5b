/**
 * The verified-token cache: a small bounded LRU of our own, keyed on the bearer token.
 *
 * Why not a library: the key is a credential. lru-cache >= 11.3 publishes an object holding the
 * key and the value of every `get`/`set` on the process-wide `lru-cache:metrics` diagnostics
 * channel, and on its `lru-cache` tracing channel, as soon as anything in the process subscribes
 * (an APM agent, a debug tool). That would hand every bearer token and its claims to the
 * subscriber (issue 9, item 13). Hashing the token first would cost about 1.2 us per lookup, far
 * more than a hit itself. Code we own publishes nothing, and this is all the cache needs: a `Map`
 * (which keeps insertion order) with a delete and re-set for recency, and size accounting.
 *
 * Heavy entries cannot evict everyone (issue 9, item 14): an entry estimated over
 * {@link TOKEN_CACHE_MAX_ENTRY_BYTES} is not cached at all, and entries over
 * {@link TOKEN_CACHE_HEAVY_ENTRY_BYTES} together hold at most a quarter of the byte budget and
 * evict only each other, oldest first, never the light entries of ordinary tokens. A heavy entry
 * that finds no room is verified again on its next use, which is what it costs without a cache.
 */
import type { Principal } from './principal.js'

/**
 * Upper bound of the verified-token cache's estimated size: 32 MiB. An entry is estimated by
 * {@link estimateEntryBytes}: about 2 KiB for a typical token of a dozen claims, so the default
 * 10000 entries stay near 20 MiB; tokens with large claims lower the count of entries kept rather
 * than raise the memory used. test/bench/heap.bench.mjs checks the heap kept against this bound,
 * after a million tokens and for payloads of many small objects, arrays and strings.
 */
export const TOKEN_CACHE_MAX_BYTES = 32 * 1024 * 1024

/** An entry estimated larger than this (64 KiB) is never cached: it is verified on every use. */
export const TOKEN_CACHE_MAX_ENTRY_BYTES = 64 * 1024

/**
 * Entries estimated larger than this (8 KiB, four times a typical token) are heavy: together they
 * hold at most a quarter of the byte budget.
 */
export const TOKEN_CACHE_HEAVY_ENTRY_BYTES = 8 * 1024

/** Bytes of one cache entry besides its token and claims: the entry, the principal, the map slot. */
const ENTRY_OVERHEAD_BYTES = 1024

/**
 * Rough heap bytes a cache entry keeps: the token string, each value of the frozen claims (V8 on
 * 64 bits, no pointer compression: a slot is 8 bytes), the principal's scope list, and a fixed
 * overhead. The length of the token alone does not bound it: `[{},{},…]` costs some 70 heap bytes
 * for every 4 characters of token. Walked once, when a token is cached, never on a hit.
 */
export function estimateEntryBytes(token: string, principal: Principal): number {
  let bytes = ENTRY_OVERHEAD_BYTES + token.length + 8 * principal.scopes.length
  const pending: unknown[] = [principal.claims]
  while (pending.length > 0) {
    const value = pending.pop()
    if (typeof value === 'string') bytes += 24 + value.length
    else if (typeof value === 'number') bytes += 16
    else if (Array.isArray(value)) {
      bytes += 32 + 8 * value.length
      for (const item of value) pending.push(item)
    } else if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value)
      bytes += 64 + 24 * entries.length
      for (const [name, item] of entries) pending.push(name, item)
    }
  }
  return bytes
}

/** Limits of a {@link BoundedLru}. */
export interface BoundedLruLimits<V> {
  /** Most entries kept. */
  readonly max: number
  /** Most estimated bytes kept. */
  readonly maxBytes: number
  /** Entries estimated larger are not kept. */
  readonly maxEntryBytes: number
  /** Entries estimated larger are heavy, and share a quarter of `maxBytes`. */
  readonly heavyEntryBytes: number
  /** The estimated bytes of an entry, computed once when it is set. Default: 0. */
  readonly sizeOf?: (value: V, key: string) => number
}

/**
 * A bounded least-recently-used map from a string key to a value, that publishes nothing anywhere.
 * The verified-token cache is one; the cache of `resolveIssuer` answers, whose values hold issuer
 * keys and secrets, is another.
 *
 * Slots live in parallel arrays, linked oldest to newest by index (as lru-cache does it): a hit
 * moves its slot to the newest end with four array writes and no allocation. A `Map` alone, with
 * a delete and a re-set per hit, measured a third slower per hit with a few thousand entries.
 */
export class BoundedLru<V> {
  // key -> slot index
  readonly #index = new Map<string, number>()
  readonly #keys: (string | undefined)[] = []
  readonly #values: (V | undefined)[] = []
  readonly #sizes: number[] = []
  readonly #next: number[] = []
  readonly #prev: number[] = []
  readonly #free: number[] = []
  // Heavy keys, oldest first: the heavy share is reclaimed from these alone.
  readonly #heavy = new Set<string>()
  readonly #limits: BoundedLruLimits<V>
  readonly #heavyBudget: number
  #head = -1 // the least recently used slot
  #tail = -1 // the most recently used slot
  #bytes = 0
  #heavyBytes = 0

  constructor(limits: BoundedLruLimits<V>) {
    this.#limits = limits
    this.#heavyBudget = Math.floor(limits.maxBytes / 4)
  }

  /** Entries kept. */
  get size(): number {
    return this.#index.size
  }

  /** Estimated bytes kept. */
  get bytes(): number {
    return this.#bytes
  }

  /** The value of `key`, which becomes the most recently used; `undefined` if not cached. */
  get(key: string): V | undefined {
    const slot = this.#index.get(key)
    if (slot === undefined) return undefined
    if (slot !== this.#tail) {
      this.#unlink(slot)
      this.#append(slot)
    }
    return this.#values[slot]
  }

  /**
   * Keeps `value` under `key`, evicting the least recently used entries beyond the limits. An
   * entry over `maxEntryBytes` is not kept. Returns whether it was kept.
   */
  set(key: string, value: V): boolean {
    this.delete(key)
    const limits = this.#limits
    const bytes = limits.sizeOf?.(value, key) ?? 0
    if (bytes > limits.maxEntryBytes || limits.max === 0) return false
    const heavy = bytes > limits.heavyEntryBytes
    if (heavy) {
      // A heavy entry makes room among the heavy entries only, oldest first: within their share
      // of the bytes, and within the limits of the whole. It never evicts a light entry: if there
      // is no room without doing so, it is not kept.
      const lightCount = this.#index.size - this.#heavy.size
      const lightBytes = this.#bytes - this.#heavyBytes
      if (
        bytes > this.#heavyBudget ||
        lightCount >= limits.max ||
        lightBytes + bytes > limits.maxBytes
      ) {
        return false
      }
      for (const oldest of this.#heavy) {
        if (this.#heavyBytes + bytes <= this.#heavyBudget && this.#fits(bytes)) break
        this.delete(oldest)
      }
      this.#heavy.add(key)
      this.#heavyBytes += bytes
    } else {
      // A light entry evicts the least recently used entries, whatever their weight.
      while (this.#head !== -1 && !this.#fits(bytes)) {
        this.delete(this.#keys[this.#head] as string)
      }
    }
    const slot = this.#free.pop() ?? this.#keys.length
    this.#keys[slot] = key
    this.#values[slot] = value
    this.#sizes[slot] = bytes
    this.#index.set(key, slot)
    this.#append(slot)
    this.#bytes += bytes
    return true
  }

  /** Forgets `key`. */
  delete(key: string): void {
    const slot = this.#index.get(key)
    if (slot === undefined) return
    const bytes = this.#sizes[slot] as number
    this.#index.delete(key)
    this.#unlink(slot)
    this.#keys[slot] = undefined
    this.#values[slot] = undefined
    this.#free.push(slot)
    this.#bytes -= bytes
    if (this.#heavy.delete(key)) this.#heavyBytes -= bytes
  }

  // True if one more entry of `bytes` fits within max and maxBytes.
  #fits(bytes: number): boolean {
    return this.#index.size < this.#limits.max && this.#bytes + bytes <= this.#limits.maxBytes
  }

  #unlink(slot: number): void {
    const prev = this.#prev[slot] as number
    const next = this.#next[slot] as number
    if (prev === -1) this.#head = next
    else this.#next[prev] = next
    if (next === -1) this.#tail = prev
    else this.#prev[next] = prev
  }

  #append(slot: number): void {
    this.#prev[slot] = this.#tail
    this.#next[slot] = -1
    if (this.#tail === -1) this.#head = slot
    else this.#next[this.#tail] = slot
    this.#tail = slot
  }
}
