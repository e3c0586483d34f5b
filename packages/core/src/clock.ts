/**
 * The two clocks of the verifier. Token times (`exp`, `nbf`, `iat`) are wall-clock seconds, as the
 * issuer wrote them, so they are compared with the wall clock. Intervals the verifier measures
 * itself (the key-set max age, the cooldown, `maxStale`, the log-sampling window) are measured with
 * a monotonic clock: stepping the wall clock back an hour (NTP, a VM resumed, an operator) once
 * stopped every refresh and every sampled log line for that hour, and stepping it forward expired
 * the key set and the cooldown at once (issue 9, item 11).
 */

/** The time sources of a verifier. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch, for token times. */
  now(): number
  /** Milliseconds from an arbitrary origin that never steps with the wall clock, for intervals. */
  monotonic(): number
}

/**
 * The process's clocks: `Date.now()` and `performance.now()`. The latter is bound once, here: the
 * verifier's own reading is no call that a spy or a diagnostics subscriber on `performance.now`
 * would count as instrumentation cost.
 */
export const systemClock: Clock = Object.freeze({
  // Read through the global each time, so that tests that fake Date (vi.setSystemTime) move it.
  now: () => Date.now(),
  monotonic: performance.now.bind(performance),
})

/**
 * The option key under which tests hand `createVerifier` another {@link Clock}. A symbol, not a
 * documented option: it is no part of the public API, is not exported by the package, and is not
 * one of the option names checked at start-up.
 */
export const CLOCK: unique symbol = Symbol('trustgate.clock')

/** Options that may carry an injected {@link Clock}. */
export interface ClockOption {
  readonly [CLOCK]?: Clock
}

/** The clock injected into `options`, or the system's. */
export function clockOf(options: object): Clock {
  return (options as ClockOption)[CLOCK] ?? systemClock
}
