/**
 * What `createVerifier` returns: the verifier's public methods, one place to read them. The order
 * of checks they share is verifier.ts.
 */
import type { ErrorFactory } from './errors.js'
import type { Health, ReadyOptions } from './health.js'
import type { RequestContext } from './log.js'
import type { Principal } from './principal.js'
import type { ResourceMetadata } from './resource-metadata.js'
import type { RevocationRule } from './revocation-rules.js'

/** Verifies bearer tokens against the configured issuers. Create one per app and keep it. */
export interface Verifier {
  /** Verifies a token. Resolves to its principal, or rejects with an `AuthError`. */
  verify(token: string, context?: RequestContext): Promise<Principal>
  /**
   * Takes the bearer token from the Authorization header value(s) of a request and verifies it.
   * Resolves to `null` when the request carries no bearer token.
   */
  authenticate(
    authorization: string | readonly string[] | undefined,
    context?: RequestContext,
  ): Promise<Principal | null>
  /**
   * {@link Verifier.authenticate} without a promise where none is needed, for adapters on the hot
   * path: `null` when the request carries no bearer token, the principal when it is known at once
   * (a verified-token cache hit, or a token verified with its issuer's keys already at hand and no
   * store to wait for), and a promise when something must be awaited. Makes every check
   * `authenticate` makes, in the same order, and publishes the same outcome; it throws, rather
   * than rejects with, an error known at once.
   */
  authenticateNow(
    authorization: string | readonly string[] | undefined,
    context?: RequestContext,
  ): Principal | null | Promise<Principal>
  /**
   * The synchronous part of {@link Verifier.authenticate}, for adapters on the hot path: `null`
   * when the request carries no bearer token, the principal when the verified-token cache holds
   * the token and every rule still holds, and `undefined` when `authenticate` must be awaited.
   * Throws `invalid_request` for a malformed header, as `authenticate` rejects with it, and any
   * error of the per-request checks (STEP 8), which a cache hit still makes on `context`.
   */
  authenticateCached(
    authorization: string | readonly string[] | undefined,
    context?: RequestContext,
  ): Principal | null | undefined
  /**
   * Revokes one token, every token of a principal issued before a time, or every token of an
   * issuer issued before a time: at once on this verifier, and on every verifier that shares its
   * `revocation.store` within the store's propagation delay. Needs the `revocation` option.
   */
  revoke(rule: RevocationRule): Promise<void>
  /**
   * Each configured issuer's keys as its key source knows them (state, count, last fetch, last
   * error) and whether all can serve: synchronous, no network. For readiness probes.
   */
  health(): Health
  /**
   * Loads every remote issuer's keys (discovery and JWKS) and resolves once all can serve; rejects
   * with an error naming the issuers whose keys could not be loaded, when their fetches fail or
   * after `timeout` ms (default 10000). For start-up: `await verifier.ready()` before listening.
   */
  ready(options?: ReadyOptions): Promise<void>
  /** Builds the errors of this verifier's realm, for guards. */
  readonly errors: ErrorFactory
  /** The protected resource metadata (RFC 9728) to serve, when the options configure it. */
  readonly resourceMetadata: ResourceMetadata | undefined
}
