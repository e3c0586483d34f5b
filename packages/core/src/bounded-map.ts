/**
 * A map that keeps at most `max` entries, the oldest making room for a new one: for the small
 * caches of what verified tokens carried (their header segments, their scope strings), filled
 * only after every check passed. Not an LRU: a hit costs one `Map` lookup and nothing else, and
 * what is kept is what the issuers send, which rarely changes (an LRU is token-cache.ts).
 */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, V>()
  readonly #max: number

  constructor(max: number) {
    this.#max = max
  }

  get(key: K): V | undefined {
    return this.#entries.get(key)
  }

  has(key: K): boolean {
    return this.#entries.has(key)
  }

  /** Keeps `value` under `key` (a new key: callers check `has` first). Returns the key evicted. */
  add(key: K, value: V): K | undefined {
    let evicted: K | undefined
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next()
      if (oldest.done !== true) {
        evicted = oldest.value
        this.#entries.delete(evicted)
      }
    }
    this.#entries.set(key, value)
    return evicted
  }
}
