/**
 * The codes and reasons an `AuthError` can carry, the HTTP status of each code, and the fixed
 * sentence of each reason. These tables are the only source of an error's text, so that no token,
 * claim or header value can ever leak into a message, a header or a log line.
 */

/**
 * The `error` codes of RFC 6750 s3.1 and RFC 9449 s7.1 / s9 (`invalid_dpop_proof`,
 * `use_dpop_nonce`), plus `missing_token`, `jwks_unavailable` and `store_unavailable`.
 */
export type AuthErrorCode =
  | 'missing_token'
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'jwks_unavailable'
  | 'store_unavailable'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'

/** Why a DPoP proof (RFC 9449 s4.3) was refused: the reasons of `invalid_dpop_proof`. */
export type DpopProofReason =
  | 'missing_proof'
  | 'multiple_proofs'
  | 'proof_too_long'
  | 'malformed_proof'
  | 'proof_typ_mismatch'
  | 'proof_alg_not_allowed'
  | 'proof_private_key'
  | 'proof_key_invalid'
  | 'proof_bad_signature'
  | 'proof_jti_invalid'
  | 'proof_htm_mismatch'
  | 'proof_htu_mismatch'
  | 'proof_stale'
  | 'proof_in_future'
  | 'proof_ath_mismatch'
  | 'proof_key_mismatch'
  | 'proof_replayed'

/** Why a DPoP proof needs a fresh server nonce (RFC 9449 s9): the reasons of `use_dpop_nonce`. */
export type DpopNonceReason = 'nonce_required' | 'nonce_stale'

/** Why a request failed, finer than `code`. Stable: tests and callers may switch on it. */
export type AuthErrorReason =
  // missing_token
  | 'missing_token'
  // invalid_request
  | 'multiple_authorization_headers'
  | 'malformed_authorization_header'
  | 'malformed_client_certificate'
  // invalid_token
  | 'malformed'
  | 'untrusted_issuer'
  | 'unknown_kid'
  | 'alg_not_allowed'
  | 'key_mismatch'
  | 'bad_signature'
  | 'unsupported_crit'
  | 'invalid_claim'
  | 'unsupported_confirmation'
  | 'missing_exp'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'missing_iat'
  | 'token_too_old'
  | 'audience_mismatch'
  | 'missing_subject'
  | 'typ_mismatch'
  | 'certificate_required'
  | 'certificate_mismatch'
  | 'certificate_binding_required'
  | 'client_mismatch'
  | 'claim_mismatch'
  | 'tenant_mismatch'
  | 'revoked'
  // invalid_token, sender constraint (RFC 9449 s7.1, no downgrade)
  | 'dpop_bound_token'
  | 'not_dpop_bound'
  | 'dpop_required'
  // invalid_dpop_proof, use_dpop_nonce
  | DpopProofReason
  | DpopNonceReason
  // insufficient_scope
  | 'insufficient_scope'
  | 'forbidden'
  // jwks_unavailable
  | 'jwks_unavailable'
  // store_unavailable: shared state (revocation rules, replay claims) cannot be read
  | 'revocation_unavailable'
  | 'replay_unavailable'

/** The reasons of `invalid_request`. */
export type InvalidRequestReason =
  | 'multiple_authorization_headers'
  | 'malformed_authorization_header'
  | 'malformed_client_certificate'

/** The reasons of `invalid_token`. */
export type InvalidTokenReason = Exclude<
  AuthErrorReason,
  | 'missing_token'
  | InvalidRequestReason
  | 'insufficient_scope'
  | 'forbidden'
  | 'jwks_unavailable'
  | 'revocation_unavailable'
  | 'replay_unavailable'
  | DpopProofReason
  | DpopNonceReason
>

/** The HTTP status of each code. */
export const STATUS: Readonly<Record<AuthErrorCode, number>> = {
  missing_token: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  jwks_unavailable: 503,
  store_unavailable: 503,
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
}

/**
 * Fixed sentences, one per reason. They go into `message`, the body's `error_description` and the
 * challenge, so they are plain ASCII without `"` or `\` (RFC 6750 s3: error_description is
 * %x20-21 / %x23-5B / %x5D-7E).
 */
export const DESCRIPTIONS: Readonly<Record<AuthErrorReason, string>> = {
  missing_token: 'Authentication is required',
  multiple_authorization_headers: 'More than one Authorization header was sent',
  malformed_authorization_header: 'The Authorization header is not a single Bearer token',
  malformed_client_certificate: 'The forwarded client certificate cannot be read',
  malformed: 'The token is not a well-formed JWT',
  untrusted_issuer: 'The token issuer is not trusted',
  unknown_kid: 'No key of the issuer matches the token',
  alg_not_allowed: 'The token algorithm is not allowed for this issuer',
  key_mismatch: 'The token algorithm does not fit the issuer key',
  bad_signature: 'The token signature is invalid',
  unsupported_crit: 'The token has critical header parameters that are not understood',
  invalid_claim: 'A token claim has the wrong type',
  unsupported_confirmation: 'The token is bound to a key by a method that is not supported',
  missing_exp: 'The token has no expiration time',
  expired: 'The token has expired',
  not_yet_valid: 'The token is not valid yet',
  issued_in_future: 'The token was issued in the future',
  missing_iat: 'The token has no issued-at time',
  token_too_old: 'The token is too old',
  audience_mismatch: 'The token is not meant for this audience',
  missing_subject: 'The token has no subject',
  typ_mismatch: 'The token type is not accepted',
  certificate_required: 'The token is bound to a client certificate and none was presented',
  certificate_mismatch: 'The token is bound to another client certificate',
  certificate_binding_required: 'The token is not bound to a client certificate',
  client_mismatch: 'The token was issued to a client that is not accepted',
  claim_mismatch: 'A token claim does not have an accepted value',
  tenant_mismatch: 'The token tenant does not match its issuer',
  revoked: 'The token has been revoked',
  dpop_bound_token: 'The token is bound to a DPoP key and must be sent with a DPoP proof',
  not_dpop_bound: 'The token is not bound to a DPoP key',
  dpop_required: 'A DPoP-bound token and proof are required',
  missing_proof: 'A DPoP proof is required',
  multiple_proofs: 'More than one DPoP header was sent',
  proof_too_long: 'The DPoP proof is too long',
  malformed_proof: 'The DPoP proof is not a well-formed JWT',
  proof_typ_mismatch: 'The DPoP proof type is not dpop+jwt',
  proof_alg_not_allowed: 'The DPoP proof algorithm is not allowed',
  proof_private_key: 'The DPoP proof key contains private key material',
  proof_key_invalid: 'The DPoP proof key is not a usable public key for its algorithm',
  proof_bad_signature: 'The DPoP proof signature is invalid',
  proof_jti_invalid: 'The DPoP proof has no valid jti',
  proof_htm_mismatch: 'The DPoP proof is not for this HTTP method',
  proof_htu_mismatch: 'The DPoP proof is not for this URL',
  proof_stale: 'The DPoP proof is too old',
  proof_in_future: 'The DPoP proof was issued in the future',
  proof_ath_mismatch: 'The DPoP proof is not for this access token',
  proof_key_mismatch: 'The DPoP proof key is not the key the token is bound to',
  proof_replayed: 'The DPoP proof has already been used',
  nonce_required: 'The DPoP proof must carry a server nonce',
  nonce_stale: 'The DPoP proof nonce is invalid or expired',
  insufficient_scope: 'The token does not carry the required scope',
  forbidden: 'The principal is not allowed to access this resource',
  jwks_unavailable: 'The issuer keys cannot be retrieved right now',
  revocation_unavailable: 'Token revocation cannot be checked right now',
  replay_unavailable: 'Proof replay cannot be checked right now',
}
