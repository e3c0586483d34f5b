export { createVerifier, type Verifier } from './verifier.js'
export {
  TOKEN_CACHE_HEAVY_ENTRY_BYTES,
  TOKEN_CACHE_MAX_BYTES,
  TOKEN_CACHE_MAX_ENTRY_BYTES,
} from './token-cache.js'
export {
  CLOCK_TOLERANCE_S,
  JWKS_CACHE_MAX_AGE_MS,
  JWKS_COOLDOWN_MS,
  JWKS_TIMEOUT_MS,
  JWKS_MAX_STALE_MS,
  MAX_TOKEN_LENGTH,
  TOKEN_CACHE_MAX,
  VERIFIER_OPTION_NAMES,
  JWKS_OPTION_NAMES,
  TOKEN_CACHE_OPTION_NAMES,
  type JwksOptions,
  type TokenCacheOptions,
  type VerifierOptions,
} from './verifier-options.js'
export { ISSUER_OPTION_NAMES, type IssuerConfig } from './issuer-config.js'
export { AuthError, isAuthError, type AuthErrorBody, type AuthErrorHeaders } from './auth-error.js'
export {
  type AuthErrorCode,
  type AuthErrorReason,
  type DpopNonceReason,
  type DpopProofReason,
  type InvalidRequestReason,
  type InvalidTokenReason,
} from './reasons.js'
export { DEFAULT_REALM, type ChallengeOptions, type ErrorFactory } from './errors.js'
export {
  ADAPTER_OPTION_NAMES,
  checkOptionNames,
  configError,
  CONFIG_ERROR_PREFIX,
  integer as integerOption,
} from './options.js'
export { authorizationValues, parseBearer, parseCredentials, type Credentials } from './bearer.js'
export {
  RESOURCE_METADATA_WELL_KNOWN,
  resolveResourceMetadata,
  type ResourceMetadata,
  type ResourceMetadataFeatures,
  type ResourceMetadataOptions,
} from './resource-metadata.js'
export {
  createGuard,
  checkScopeArguments,
  checkScopeList,
  type Guard,
  type Requirement,
} from './guards.js'
export { principalKey, type Confirmation, type Principal } from './principal.js'
export { type ClaimRule, type ClaimValue } from './claims.js'
export { DEFAULT_SCOPE_CLAIMS } from './issuers.js'
export { TENANT_PLACEHOLDER } from './issuer-templates.js'
export {
  RESOLVE_ISSUER_CALLS_PER_SECOND,
  RESOLVE_ISSUER_MAX,
  RESOLVE_ISSUER_MAX_AGE_MS,
  RESOLVE_ISSUER_MAX_PENDING,
  RESOLVE_ISSUER_NULL_MAX_AGE_MS,
  type IssuerResolver,
  type ResolveIssuerOptions,
} from './issuer-resolver.js'
export {
  auth0,
  clerk,
  cognito,
  entraId,
  firebase,
  google,
  keycloak,
  okta,
  type Auth0Options,
  type ClerkOptions,
  type CognitoOptions,
  type EntraIdOptions,
  type FirebaseOptions,
  type GoogleOptions,
  type KeycloakOptions,
  type OktaOptions,
} from './providers/index.js'
export { SUPPORTED_ALGORITHMS, DEFAULT_ALGORITHMS, type Algorithm } from './algorithms.js'
export { type Logger, type RequestContext } from './log.js'
export { NodeRequestContext } from './request-context.js'
export { dpopValues } from './dpop.js'
export {
  DPOP_ALGORITHMS,
  DPOP_MAX_PROOF_AGE_S,
  DPOP_MAX_PROOF_LENGTH,
  type DpopAlgorithm,
  type DpopNonceOptions,
  type DpopOptions,
} from './dpop-options.js'
export { DPOP_MAX_JTI_LENGTH } from './dpop-proof.js'
export { DPOP_KEY_CACHE_MAX, jwkThumbprint } from './dpop-key.js'
export { DPOP_NONCE_STEP_S } from './dpop-nonce.js'
export { checkOrigin, checkOriginOption, requestUrl } from './htu.js'
export {
  createMemoryReplayStore,
  REPLAY_STORE_MAX,
  type MemoryReplayStore,
  type MemoryReplayStoreOptions,
  type ReplayStore,
} from './replay.js'
export { decodeUntrusted, inspectJwks, type KeyReport, type UntrustedToken } from './inspect.js'
export {
  checkUrl,
  fetchDocument,
  isLoopbackHost,
  FetchError,
  MAX_DOCUMENT_BYTES,
  type FetchedDocument,
} from './fetch.js'
export { discoveryUrl } from './discovery.js'
export { MIN_RSA_BITS, type KeyRejection } from './jwk.js'
export {
  certificateThumbprint,
  MalformedCertificateError,
  peerCertificate,
  type ClientCertificate,
  type MtlsOptions,
} from './mtls.js'
export { parseClientCertHeader } from './client-cert-header.js'
export { parseEscapedPem } from './escaped-pem.js'
export { parseXfcc } from './xfcc.js'
export {
  forwardedCertificate,
  type ForwardedCertificateFormat,
  type ForwardedCertificateOptions,
  type ForwardedCertificateReader,
  type ForwardedRequest,
  type ForwardedRequestMessage,
} from './forwarded-certificate.js'
export {
  MAX_TOKEN_LIFETIME_S,
  REVOCATION_MAX_STALENESS_MS,
  REVOCATION_SYNC_INTERVAL_MS,
  type RevocationOptions,
} from './revocation.js'
export {
  MAX_RULE_FIELD_LENGTH,
  parseRevocation,
  serializeRevocation,
  type IssuerRevocationRule,
  type PrincipalRevocationRule,
  type RevocationRecord,
  type RevocationRule,
  type TokenRevocationRule,
} from './revocation-rules.js'
export {
  createMemoryRevocationStore,
  REVOCATION_MAX_RULES,
  type MemoryRevocationStoreOptions,
  type RevocationListener,
  type RevocationStore,
} from './revocation-store.js'
export { isStoreUnavailable, StoreUnavailableError, type UnavailablePolicy } from './store.js'
export {
  JWKS_CHANNEL,
  VERIFY_CHANNEL,
  type JwksMessage,
  type VerifyMessage,
  type VerifyOutcome,
} from './observe.js'
export {
  METER_NAME,
  METRIC_NAMES,
  type MeterLike,
  type MeterProviderLike,
  type MetricAttributes,
  type MetricsOptions,
} from './metrics.js'
export { READY_TIMEOUT_MS, type Health, type IssuerHealth, type ReadyOptions } from './health.js'
