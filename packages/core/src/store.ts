/**
 * What a shared store (revocation rules, replay claims) throws when it cannot answer. The verifier
 * turns it into a 503 `store_unavailable`: a request is refused, never let through, while the
 * state that decides it cannot be read (unless the store was configured to fall back).
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
