/**
 * The one kind of error a request can end in. Everything about the response (status, the
 * RFC 6750 challenge, the JSON body) is decided here, from fixed tables, so that no token, claim
 * or header value can ever leak into a message, a header or a log line.
 */
import { fail } from './options.js'

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

const STATUS: Readonly<Record<AuthErrorCode, number>> = {
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
const DESCRIPTIONS: Readonly<Record<AuthErrorReason, string>> = {
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

/** The JSON body trustgate answers with. */
export interface AuthErrorBody {
  error: AuthErrorCode
  error_description: string
}

/** Response headers of an {@link AuthError}: what Express's default error handler applies. */
export interface AuthErrorHeaders {
  'WWW-Authenticate': string
  [name: string]: string
}

/** The realm used in challenges unless the options set one. */
export const DEFAULT_REALM = 'api'

/**
 * A failed authentication or authorization. `status`/`statusCode` and `headers` follow the
 * convention of http-errors, so Express's default handler and Fastify's reply both understand it.
 */
export class AuthError extends Error {
  override name = 'AuthError'
  readonly code: AuthErrorCode
  readonly reason: AuthErrorReason
  readonly status: number
  readonly statusCode: number
  readonly headers: Readonly<AuthErrorHeaders>
  /** Tells http-errors-aware handlers that the message is safe to show the client. */
  readonly expose = true

  /** Prefer the factories below: they keep code, reason and status consistent. */
  constructor(
    code: AuthErrorCode,
    reason: AuthErrorReason,
    challenge: string,
    extraHeaders?: Readonly<Record<string, string>>,
  ) {
    super(DESCRIPTIONS[reason])
    this.code = code
    this.reason = reason
    this.status = this.statusCode = STATUS[code]
    this.headers = Object.freeze({ ...extraHeaders, 'WWW-Authenticate': challenge })
    // A short fixed line, no frames: every AuthError is made by the same factory, so frames say
    // nothing, and Express's final handler prints `err.stack` for each error it is given
    // (pillarjs/finalhandler), about 1 KB per refused request with frames (issue 9, item 5).
    this.stack = `AuthError: ${DESCRIPTIONS[reason]}`
  }

  /** The response body: `{ error, error_description }`. */
  toJSON(): AuthErrorBody {
    return { error: this.code, error_description: this.message }
  }

  /**
   * One short line for `console.error(err)` and `util.inspect`: Express 5's final handler logs
   * every error it is given that way, which would otherwise print the stack, the headers and every
   * field, about 1 KB per refused request under a flood (issue 9, item 5).
   */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `AuthError: ${this.message} (${this.code}/${this.reason})`
  }
}

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

// RFC 6750 s3: realm is a quoted-string; we admit printable ASCII without `"` and `\`.
const QUOTABLE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/
// RFC 6750 s3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

/** True for a string that may stand inside a challenge's quoted-string. */
export function isQuotable(value: string): boolean {
  return QUOTABLE.test(value)
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
  if (!isQuotable(realm)) fail('realm', 'must be printable ASCII without " or \\')
  const { resourceMetadata, dpopAlgorithms } = options
  if (resourceMetadata !== undefined && !isQuotable(resourceMetadata)) {
    fail('resourceMetadata', 'must be printable ASCII without " or \\')
  }
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

// The cross-install check of isAuthError: every field an adapter reads to answer, with the type
// and value an AuthError of this version would have.
function hasAuthErrorShape(value: Error): boolean {
  const { name, message, code, reason, status, statusCode, headers, toJSON } = value as Error &
    Record<string, unknown>
  if (name !== 'AuthError' || typeof message !== 'string' || typeof toJSON !== 'function') {
    return false
  }
  if (typeof code !== 'string' || !Object.hasOwn(STATUS, code)) return false
  if (typeof reason !== 'string' || !Object.hasOwn(DESCRIPTIONS, reason)) return false
  const expected = STATUS[code as AuthErrorCode]
  if (status !== expected || statusCode !== expected) return false
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return false
  const values = headers as Record<string, unknown>
  if (typeof values['WWW-Authenticate'] !== 'string') return false
  return Object.values(values).every((header) => typeof header === 'string')
}

/**
 * True if `value` is an {@link AuthError}: an instance of this class, or, across duplicated
 * installs of the package, an Error of exactly its shape: `name` 'AuthError', a known `code` and
 * `reason`, the `status` and `statusCode` of that code, `headers` of strings with a
 * `WWW-Authenticate`, and `toJSON`. A look-alike that misses any of them is not one: adapters answer
 * an AuthError with its own status and headers, and anything else is an unexpected error (500).
 * Never throws, whatever `value` is (a Proxy, a getter that throws).
 */
export function isAuthError(value: unknown): value is AuthError {
  try {
    if (value instanceof AuthError) return true
    return value instanceof Error && hasAuthErrorShape(value)
  } catch {
    return false
  }
}
