/**
 * An injected clock for core tests (issue 9, item 11). Its wall time is `Date.now()`, which a test
 * fakes with `vi.useFakeTimers({ toFake: ['Date'] })`, so that tokens signed in the test and the
 * verifier agree on it; its monotonic time moves only when the test says. `at(ms)` moves both, as
 * time passing does; `stepWall(ms)` moves the wall clock alone, as NTP or an operator does.
 */
import { vi } from 'vitest'
import { CLOCK, type Clock } from '../../packages/core/src/clock.js'

export interface TestClock extends Clock {
  /**
   * Both clocks at `ms` after the start: monotonic time at `ms`, the wall clock at `start + ms`
   * plus the steps made so far.
   */
  at(ms: number): void
  /** Steps the wall clock by `ms` (negative: back), for good, leaving monotonic time alone. */
  stepWall(ms: number): void
}

/** A test clock starting at wall-clock time `start` (ms since the epoch). */
export function createTestClock(start: number): TestClock {
  let monotonic = 0
  let stepped = 0
  return {
    now: () => Date.now(),
    monotonic: () => monotonic,
    at(ms) {
      vi.setSystemTime(start + stepped + ms)
      monotonic = ms
    },
    stepWall(ms) {
      stepped += ms
      vi.setSystemTime(Date.now() + ms)
    },
  }
}

/** `options` with `clock` injected under the verifier's internal clock key. */
export function withClock<T extends object>(options: T, clock: Clock): T {
  return { ...options, [CLOCK]: clock }
}
