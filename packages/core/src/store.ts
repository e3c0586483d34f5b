/**
 * What a shared store (revocation rules, replay claims) throws when it cannot answer. The verifier
 * turns it into a 503 `store_unavailable`: a request is refused, never let through, while the
 * state that decides it cannot be read (unless the store was configured to fall back). Also the
 * `onUnavailable` policies that say what else may happen, shared by the replay and revocation stores.
 */

/**
 * Thrown (or rejected with) by a store that cannot answer: unreachable, timed out, or full. Carries
 * no key, token or value of the request, only what failed.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError'
}

/** True for a {@link StoreUnavailableError}, also one thrown by another install of the package. */
export function isStoreUnavailable(value: unknown): value is StoreUnavailableError {
  return (
    value instanceof StoreUnavailableError ||
    (value instanceof Error && value.name === 'StoreUnavailableError')
  )
}

/**
 * What happens while a store cannot answer. `fail-closed` (default): refuse with 503
 * `store_unavailable`. `fallback`: keep deciding in process (revocation: the last known rules and
 * those revoked here; replay: a bounded memory store). `accept`: let the request through and log it.
 */
export type UnavailablePolicy = 'fail-closed' | 'fallback' | 'accept'

/** Every {@link UnavailablePolicy}, to check an option against at start-up. */
export const UNAVAILABLE_POLICIES: ReadonlySet<string> = new Set([
  'fail-closed',
  'fallback',
  'accept',
])
