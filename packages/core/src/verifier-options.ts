/**
 * What `createVerifier` accepts at the verifier level, its defaults, and the option names each
 * level admits. Only declarations: config.ts validates them, issuer-config.ts the issuers.
 */
import type { IssuerConfig } from './issuer-config.js'
import type { IssuerResolver, ResolveIssuerOptions } from './issuer-resolver.js'
import type { Logger } from './log.js'
import type { MetricsOptions } from './metrics.js'
import type { MtlsOptions } from './mtls.js'
import type { DpopOptions } from './dpop-options.js'
import { optionNames } from './options.js'
import type { ResourceMetadataOptions } from './resource-metadata.js'
import type { RevocationOptions } from './revocation.js'

/** Options of the JWKS cache, in milliseconds like jose's. */
export interface JwksOptions {
  /** How long a fetched key set is fresh. Default 600000 (10 min). */
  cacheMaxAge?: number
  /** At most one refetch per issuer per this interval, for unknown kids and after failures. Default 30000. */
  cooldownDuration?: number
  /** Time allowed for one JWKS or discovery fetch. Default 5000. */
  timeoutDuration?: number
  /**
   * After this long without a successful fetch, the cached keys stop serving and requests get
   * `jwks_unavailable` until a fetch succeeds. At least `cacheMaxAge`; `Infinity` serves them for
   * as long as fetches fail. Default 86400000 (24 h).
   */
  maxStale?: number
}

/** Options of the verified-token cache. */
export interface TokenCacheOptions {
  /** Most tokens kept. Default 10000. `0` turns the cache off. */
  max?: number
}

/** Options of {@link createVerifier}. */
export interface VerifierOptions {
  /** The trusted issuers: at least one. */
  issuers: readonly IssuerConfig[]
  /** Any pino logger. Default: pino at level `info`. */
  logger?: Logger
  /** Seconds of leeway on `exp`, `nbf`, `iat`. Default 5. */
  clockTolerance?: number
  /** Longest token accepted, in characters. Default 16384. */
  maxTokenLength?: number
  /** JWKS cache timing. */
  jwks?: JwksOptions
  /** The realm of `WWW-Authenticate` challenges. Default `api`. */
  realm?: string
  /** The verified-token cache; `false` turns it off. Default on, 10000 tokens. */
  tokenCache?: TokenCacheOptions | false
  /** Certificate-bound tokens (RFC 8705). Bound tokens are checked with or without this. */
  mtls?: MtlsOptions
  /**
   * Asked for an `iss` that no configured issuer matches (tenants that sign up at run time).
   * Its answers are validated like `issuers`, cached, shared and rate-limited: see issuers.ts.
   */
  resolveIssuer?: IssuerResolver
  /** Limits of `resolveIssuer`. */
  resolveIssuerOptions?: ResolveIssuerOptions
  /** Token revocation shared by every instance (revocation.ts). Default off. */
  revocation?: RevocationOptions
  /**
   * Protected resource metadata (RFC 9728): the adapters serve it at its well-known URL, and
   * every 401 challenge names that URL in `resource_metadata`.
   */
  resourceMetadata?: ResourceMetadataOptions
  /**
   * OpenTelemetry metrics: `true` for the global MeterProvider (needs `@opentelemetry/api`), or
   * `{ meterProvider }`. Off by default; nothing is loaded then.
   */
  metrics?: MetricsOptions
  /** DPoP-bound tokens (RFC 9449): proofs, replay store, nonces. Off by default. */
  dpop?: DpopOptions
}

export const CLOCK_TOLERANCE_S = 5
export const MAX_TOKEN_LENGTH = 16384
export const JWKS_CACHE_MAX_AGE_MS = 600_000
export const JWKS_COOLDOWN_MS = 30_000
export const JWKS_TIMEOUT_MS = 5_000
/**
 * 24 h: an issuer or network outage of up to a day costs no availability, and a key the issuer
 * removed stays usable for at most a day to someone who can also cut the API off from the issuer
 * (issue 9, item 10; the trade-off is written in SECURITY.md).
 */
export const JWKS_MAX_STALE_MS = 86_400_000
export const TOKEN_CACHE_MAX = 10_000

// The option names each level accepts: one constant per level. A name that is not listed throws
// at start-up (a typo must not silently leave a setting at its default).

/** The names {@link VerifierOptions} accepts. */
export const VERIFIER_OPTION_NAMES = optionNames<VerifierOptions>({
  issuers: true,
  logger: true,
  clockTolerance: true,
  maxTokenLength: true,
  jwks: true,
  realm: true,
  tokenCache: true,
  mtls: true,
  resolveIssuer: true,
  resolveIssuerOptions: true,
  revocation: true,
  resourceMetadata: true,
  metrics: true,
  dpop: true,
})

/** The names {@link JwksOptions} accepts. */
export const JWKS_OPTION_NAMES = optionNames<JwksOptions>({
  cacheMaxAge: true,
  cooldownDuration: true,
  timeoutDuration: true,
  maxStale: true,
})

/** The names {@link TokenCacheOptions} accepts. */
export const TOKEN_CACHE_OPTION_NAMES = optionNames<TokenCacheOptions>({
  max: true,
})
