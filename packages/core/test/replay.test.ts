import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryReplayStore, REPLAY_STORE_MAX } from '../src/replay.js'

describe('createMemoryReplayStore', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['performance', 'Date'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('claims a key once within its time to live, and again after it', () => {
    const store = createMemoryReplayStore()
    expect(store.claim('a', 1000)).toBe(true)
    expect(store.claim('a', 1000)).toBe(false)
    // Another key is independent.
    expect(store.claim('b', 1000)).toBe(true)
    vi.advanceTimersByTime(999)
    expect(store.claim('a', 1000)).toBe(false)
    vi.advanceTimersByTime(1)
    expect(store.claim('a', 1000)).toBe(true)
  })

  it('refuses new keys when full of live keys, rather than forgetting one (fails closed)', () => {
    const store = createMemoryReplayStore({ max: 3 })
    expect(store.claim('a', 10_000)).toBe(true)
    expect(store.claim('b', 10_000)).toBe(true)
    expect(store.claim('c', 10_000)).toBe(true)
    expect(store.claim('d', 10_000)).toBe(false)
    // Every live key is still remembered: none was evicted to make room.
    expect(store.claim('a', 10_000)).toBe(false)
    expect(store.claim('b', 10_000)).toBe(false)
    expect(store.claim('c', 10_000)).toBe(false)
  })

  it('reclaims expired keys lazily, without a timer, when it is full', () => {
    const store = createMemoryReplayStore({ max: 3 })
    store.claim('long', 60_000)
    store.claim('short1', 1000)
    store.claim('short2', 1000)
    expect(store.claim('x', 1000)).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(1000)
    // The two short keys expired: room for two new keys, and the long one still refuses.
    expect(store.claim('x', 1000)).toBe(true)
    expect(store.claim('y', 1000)).toBe(true)
    expect(store.claim('z', 1000)).toBe(false)
    expect(store.claim('long', 60_000)).toBe(false)
  })

  it('keeps its size bounded by the traffic: old expired keys go as new ones arrive', () => {
    const store = createMemoryReplayStore({ max: 10 })
    // 1000 keys, each expiring before the next arrives: never full, never refused.
    for (let i = 0; i < 1000; i++) {
      expect(store.claim(`k${String(i)}`, 5)).toBe(true)
      vi.advanceTimersByTime(10)
    }
  })

  it('does not go back to the wall clock: setting the clock forward expires nothing', () => {
    const store = createMemoryReplayStore()
    store.claim('a', 60_000)
    vi.setSystemTime(Date.now() + 3_600_000)
    expect(store.claim('a', 60_000)).toBe(false)
  })

  it('validates its options and arguments', () => {
    expect(REPLAY_STORE_MAX).toBe(100_000)
    expect(() => createMemoryReplayStore({ max: 0 })).toThrow(/max must be an integer >= 1/)
    expect(() => createMemoryReplayStore({ max: 1.5 })).toThrow(TypeError)
    expect(() => createMemoryReplayStore(null as never)).toThrow(TypeError)
    const store = createMemoryReplayStore()
    expect(() => store.claim('', 1000)).toThrow(/key/)
    expect(() => store.claim('a', 0)).toThrow(/ttlMs/)
    expect(() => store.claim('a', Number.NaN)).toThrow(/ttlMs/)
  })
})
