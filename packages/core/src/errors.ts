/**
 * The factories of every request-time `AuthError` of one realm: each builds its RFC 6750 challenge
 * (with `resource_metadata` of RFC 9728 on 401s, and the DPoP scheme of RFC 9449 when DPoP is on)
 * from fixed tables and config values checked at start-up, never from request data.
 */
import { AuthError, isAuthError } from './auth-error.js'
import { fail } from './options.js'
import {
  DESCRIPTIONS,
  STATUS,
  type AuthErrorCode,
  type AuthErrorReason,
  type DpopNonceReason,
  type DpopProofReason,
  type InvalidRequestReason,
  type InvalidTokenReason,
} from './reasons.js'

/** The realm used in challenges unless the options set one. */
export const DEFAULT_REALM = 'api'

/** Builds challenges for one realm. The realm is a config value checked at start-up. */
export interface ErrorFactory {
  missingToken(): AuthError
  invalidRequest(reason: InvalidRequestReason): AuthError
  invalidToken(reason: InvalidTokenReason): AuthError
  insufficientScope(
    scopes: readonly string[],
    reason?: 'insufficient_scope' | 'forbidden',
  ): AuthError
  jwksUnavailable(): AuthError
  storeUnavailable(reason: 'revocation_unavailable' | 'replay_unavailable'): AuthError
  /** RFC 9449 s7.1: a DPoP proof was refused; the challenge is on the DPoP scheme. */
  invalidDpopProof(reason: DpopProofReason): AuthError
  /** RFC 9449 s9: one DPoP challenge with `use_dpop_nonce`, and the nonce in `DPoP-Nonce`. */
  useDpopNonce(reason: DpopNonceReason, nonce: string): AuthError
  /**
   * The same error with its challenge on the DPoP scheme, for a request that used it (RFC 9449
   * s7.1: the error goes on the scheme the client used). Anything else is returned as it is.
   */
  onDpopScheme(error: unknown): unknown
}

// RFC 6750 s3: realm is a quoted-string; we admit printable ASCII without `"` and `\`.
const QUOTABLE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/
// RFC 6750 s3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

/** True for a string that may stand inside a challenge's quoted-string. */
export function isQuotable(value: string): boolean {
  return QUOTABLE.test(value)
}

/**
 * Returns `value` if it may stand inside a challenge's quoted-string; throws a TypeError naming
 * `field` otherwise. For config values only, checked at start-up.
 */
export function checkQuotable(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isQuotable(value)) {
    fail(field, 'must be printable ASCII without " or \\')
  }
  return value
}

/** True for a valid RFC 6750 scope-token. */
export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value)
}

/** What the challenges say besides the realm. Config values, checked at start-up. */
export interface ChallengeOptions {
  /**
   * The URL of the API's protected resource metadata (RFC 9728 s5.1): added to every 401
   * challenge as `resource_metadata="…"`, so that a refused client can find the authorization
   * server. Printable ASCII without `"` or `\`.
   */
  readonly resourceMetadata?: string | undefined
  /**
   * The DPoP proof algorithms accepted, when DPoP is on: every challenge then also offers the
   * DPoP scheme with them (RFC 9449 s7.1), and DPoP errors go on a DPoP challenge.
   */
  readonly dpopAlgorithms?: readonly string[] | undefined
}

/** Creates the error factory of one realm. */
export function createErrorFactory(
  realm: string = DEFAULT_REALM,
  options: ChallengeOptions = {},
): ErrorFactory {
  checkQuotable(realm, 'realm')
  const { resourceMetadata, dpopAlgorithms } = options
  if (resourceMetadata !== undefined) checkQuotable(resourceMetadata, 'resourceMetadata')
  // RFC 9728 s5.1: on 401 answers only; a 403 or 400 client already knows where tokens come from.
  const metadata = resourceMetadata === undefined ? '' : `, resource_metadata="${resourceMetadata}"`
  const prefix = `Bearer realm="${realm}"`
  const algs = dpopAlgorithms === undefined ? '' : `, algs="${dpopAlgorithms.join(' ')}"`
  // The DPoP challenge that follows a Bearer one when DPoP is on.
  const dpopOffer = dpopAlgorithms === undefined ? '' : `, DPoP realm="${realm}"${algs}`
  const challenge = (code: AuthErrorCode, reason: AuthErrorReason, extra = ''): string =>
    `${prefix}, error="${code}", error_description="${DESCRIPTIONS[reason]}"${extra}${dpopOffer}`
  const make = (code: AuthErrorCode, reason: AuthErrorReason, extra?: string): AuthError =>
    new AuthError(code, reason, challenge(code, reason, extra))
  // A single DPoP challenge carrying the error: oauth4webapi, for one, retries on use_dpop_nonce
  // only when it finds it on a DPoP challenge.
  const dpopChallenge = (code: AuthErrorCode, reason: AuthErrorReason): string =>
    `DPoP realm="${realm}", error="${code}", error_description="${DESCRIPTIONS[reason]}"${algs}` +
    (STATUS[code] === 401 ? metadata : '')
  return {
    // RFC 6750 s3.1: a request without credentials gets a challenge with no error attribute.
    missingToken: () =>
      new AuthError('missing_token', 'missing_token', prefix + metadata + dpopOffer),
    invalidRequest: (reason) => make('invalid_request', reason),
    invalidToken: (reason) => make('invalid_token', reason, metadata),
    insufficientScope: (scopes, reason = 'insufficient_scope') =>
      make('insufficient_scope', reason, scopes.length > 0 ? `, scope="${scopes.join(' ')}"` : ''),
    // Not an RFC 6750 code, but a client still needs a Bearer challenge it can parse.
    jwksUnavailable: () => make('jwks_unavailable', 'jwks_unavailable'),
    // A shared store (revocation, replay) cannot answer and the verifier fails closed.
    storeUnavailable: (reason) => make('store_unavailable', reason),
    invalidDpopProof: (reason) =>
      new AuthError('invalid_dpop_proof', reason, dpopChallenge('invalid_dpop_proof', reason)),
    // The nonce is ours (an HMAC in base64url), never a value the client sent.
    useDpopNonce: (reason, nonce) =>
      new AuthError('use_dpop_nonce', reason, dpopChallenge('use_dpop_nonce', reason), {
        'DPoP-Nonce': nonce,
      }),
    onDpopScheme: (error) =>
      isAuthError(error) && !error.headers['WWW-Authenticate'].startsWith('DPoP ')
        ? new AuthError(error.code, error.reason, dpopChallenge(error.code, error.reason))
        : error,
  }
}
