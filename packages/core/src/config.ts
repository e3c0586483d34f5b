/**
 * Validates the options once, at start-up, into a frozen map keyed by exact issuer string.
 * Every mistake is a TypeError that names the field: bad configuration must never reach a request.
 */
import {
  DEFAULT_ALGORITHMS,
  DEFAULT_HMAC_ALGORITHMS,
  isAlgorithm,
  isHmac,
  keyFits,
  SUPPORTED_ALGORITHMS,
  type Algorithm,
} from './algorithms.js'
import { importJwk, importSecret, MIN_SECRET_BYTES, type VerificationKey } from './jwk.js'
import { clockOf, type Clock } from './clock.js'
import { discoverJwksUri, discoveryUrl } from './discovery.js'
import { resolveDpopOptions, type DpopConfig, type DpopOptions } from './dpop.js'
import { DEFAULT_REALM, isQuotable } from './errors.js'
import { checkUrl } from './fetch.js'
import { RemoteKeySource, type JwksTiming } from './jwks.js'
import { SingleKeySource, StaticKeySource, type KeySource } from './key-source.js'
import { KeySet } from './key-set.js'
import { compileClaimRules, type ClaimRule, type CompiledClaimRule } from './claims.js'
import { IssuerMatcher, issuerSpellings, scopeClaimList, stringSet, tenantRule } from './issuers.js'
import { TENANT_PLACEHOLDER } from './issuer-templates.js'
import {
  resolverLimits,
  type IssuerResolver,
  type ResolveIssuerOptions,
} from './issuer-resolver.js'
import { createDefaultLogger, type Logger } from './log.js'
import { resolveMtls, type MtlsOptions, type MtlsPolicy } from './mtls.js'
import {
  resolveResourceMetadata,
  type ResourceMetadata,
  type ResourceMetadataOptions,
} from './resource-metadata.js'
import { createMetrics, resolveMeterProvider, type MetricsOptions } from './metrics.js'
import { Observer } from './observe.js'
import { checkOptionNames, fail } from './options.js'
import {
  algorithmsFor,
  describeKeyMaterial,
  importPublicKey,
  type PublicKeyInput,
} from './public-key.js'
import type { RevocationOptions } from './revocation.js'
import { isObject } from './token.js'

/**
 * One trusted issuer. Exactly one of `jwksUri`, `discovery`, `keys`, `publicKey`, `secret` is set.
 * The provider presets (`auth0()`, `entraId()`, ...) return one of these.
 */
export interface IssuerConfig {
  /**
   * The exact `iss` value trusted, compared by case-sensitive string equality; or several exact
   * spellings of one issuer that share its key source (the first is canonical: `principal.issuer`
   * and `principal.key` use it). A spelling with `{tenantid}` is a template: see `tenants`.
   */
  issuer: string | readonly string[]
  /**
   * The token's `aud` must contain one of these. `null`: the issuer's tokens carry no `aud`
   * (Cognito access tokens, Clerk), so none is checked; `clientIds` or `claims` must then bind them.
   */
  audience: string | readonly string[] | null
  /** The token's `client_id` (RFC 9068), else its `azp`, must be one of these. */
  clientIds?: readonly string[]
  /** Rules over claims, checked for every token of this issuer (reason `claim_mismatch`). */
  claims?: Readonly<Record<string, ClaimRule>>
  /** The claims read into `principal.scopes`. Default `['scope', 'scp']`. */
  scopeClaims?: readonly string[]
  /**
   * With a `{tenantid}` issuer: the tenants trusted, as a list or a function asked for every
   * token. A tenant is `[A-Za-z0-9._-]{1,64}`, and the token's `tid` must equal it.
   */
  tenants?: readonly string[] | ((tenant: string) => boolean)
  /** The issuer's JWKS endpoint (https:, or http: on a loopback host). */
  jwksUri?: string | URL
  /** Find `jwks_uri` in the issuer's OpenID metadata; its `issuer` must equal ours exactly. */
  discovery?: boolean
  /** Where the metadata is, when not `<issuer>/.well-known/openid-configuration`. */
  discoveryUrl?: string | URL
  /** With a `{tenantid}` issuer and `discovery`: the tenant whose metadata names the template. */
  discoveryTenant?: string
  /** A static JWK Set: no network. */
  keys?: { keys: readonly object[] }
  /**
   * One static public key: a PEM (SPKI or X.509 certificate), a public `KeyObject`, or a public
   * JWK. Default `algorithms`: those that fit the key type.
   */
  publicKey?: PublicKeyInput
  /**
   * An HMAC secret, for HS256/384/512 only; at least 32 bytes. Public-key material (a PEM, a JWK,
   * anything Node imports as a key) is refused: it goes in `publicKey`.
   */
  secret?: string | Uint8Array
  /**
   * Allowed `alg` values. Default: RS256-512, PS256-512, ES256/384/512, EdDSA; with a `secret`,
   * HS256/384/512.
   */
  algorithms?: readonly Algorithm[]
  /** Require `exp`. Default `true`. */
  requireExp?: boolean
  /** Reject tokens whose `iat` is older than this many seconds (requires `iat`). */
  maxTokenAge?: number
  /** Required `typ` header, e.g. `at+jwt` (RFC 9068); compared as RFC 8725 s3.11 suggests. */
  typ?: string
  /** Seconds of leeway on `exp`, `nbf`, `iat` for this issuer. Default: the verifier's. */
  clockTolerance?: number
}

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

/** One issuer's validated rules. */
export interface IssuerPolicy {
  /** The canonical spelling (a template for a `{tenantid}` issuer). */
  readonly issuer: string
  /** Every spelling, canonical first. */
  readonly spellings: readonly string[]
  /** True when the spellings hold `{tenantid}`. */
  readonly template: boolean
  readonly tenants: ((tenant: string) => boolean) | undefined
  readonly audiences: ReadonlySet<string> | null
  readonly clientIds: ReadonlySet<string> | undefined
  readonly claimRules: readonly CompiledClaimRule[]
  readonly scopeClaims: readonly string[]
  readonly algorithms: ReadonlySet<Algorithm>
  readonly keys: KeySource
  readonly requireExp: boolean
  readonly maxTokenAge: number | undefined
  readonly typ: string | undefined
  readonly clockTolerance: number
}

/** The validated options. */
export interface Config {
  /** The configured issuers, by canonical spelling. */
  readonly issuers: ReadonlyMap<string, IssuerPolicy>
  /** Matches an `iss` to its issuer: spellings, templates, then `resolveIssuer`. */
  readonly matcher: IssuerMatcher
  readonly logger: Logger
  readonly maxTokenLength: number
  readonly realm: string
  readonly tokenCacheMax: number
  readonly mtls: MtlsPolicy | undefined
  readonly resourceMetadata: ResourceMetadata | undefined
  /** DPoP (dpop.ts), validated; `undefined` when off. */
  readonly dpop: DpopConfig | undefined
  /** Publishes outcomes and key-set events, and records metrics (observe.ts). */
  readonly observer: Observer
}

// The option names each level accepts: one constant per level. A name that is not listed throws
// at start-up (a typo must not silently leave a setting at its default). Typed against the
// interface, so that a field added there and not here (or here and not there) fails to compile.
function optionNames<T>(names: Readonly<Record<keyof T, true>>): ReadonlySet<string> {
  return Object.freeze(new Set(Object.keys(names)))
}

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

/** The names {@link IssuerConfig} accepts. */
export const ISSUER_OPTION_NAMES = optionNames<IssuerConfig>({
  issuer: true,
  audience: true,
  clientIds: true,
  claims: true,
  scopeClaims: true,
  tenants: true,
  jwksUri: true,
  discovery: true,
  discoveryUrl: true,
  discoveryTenant: true,
  keys: true,
  publicKey: true,
  secret: true,
  algorithms: true,
  requireExp: true,
  maxTokenAge: true,
  typ: true,
  clockTolerance: true,
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

function seconds(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(field, 'must be a finite number of seconds >= 0')
  }
  return value
}

function positiveInteger(value: unknown, field: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail(field, `must be an integer >= ${String(min)}`)
  }
  return value
}

/**
 * RFC 8725 s3.11 / RFC 7515 s4.1.9: `typ` is compared case-insensitively, and `application/` may be
 * left out.
 */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase()
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower
}

function audiences(value: unknown, field: string): Set<string> | null {
  if (value === null) return null
  const list: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : []
  if (list.length === 0) fail(field, 'is required: a string or a non-empty array of strings')
  for (const [i, aud] of list.entries()) {
    if (typeof aud !== 'string' || aud === '')
      fail(`${field}[${String(i)}]`, 'must be a non-empty string')
  }
  return new Set(list as string[])
}

function algorithms(
  value: unknown,
  field: string,
  hmac: boolean,
  publicKey: VerificationKey | undefined,
): Set<Algorithm> {
  if (value === undefined) {
    if (publicKey !== undefined) return new Set(algorithmsFor(publicKey))
    return new Set(hmac ? DEFAULT_HMAC_ALGORITHMS : DEFAULT_ALGORITHMS)
  }
  if (!Array.isArray(value) || value.length === 0) fail(field, 'must be a non-empty array')
  for (const [i, alg] of (value as unknown[]).entries()) {
    const at = `${field}[${String(i)}]`
    if (typeof alg === 'string' && alg.toLowerCase() === 'none') {
      fail(at, 'must not be "none": unsigned tokens are never accepted')
    }
    if (!isAlgorithm(alg)) {
      fail(at, `is not a supported algorithm: use ${SUPPORTED_ALGORITHMS.join(', ')}`)
    }
    if (isHmac(alg) && !hmac) {
      fail(at, `is an HMAC algorithm: it needs a secret, and is never used with public keys`)
    }
    if (!isHmac(alg) && hmac)
      fail(at, 'is not an HMAC algorithm: a secret verifies HS256/384/512 only')
    if (publicKey !== undefined && !keyFits(publicKey, alg)) {
      fail(at, `does not fit the publicKey: it verifies ${algorithmsFor(publicKey).join(', ')}`)
    }
  }
  return new Set(value as Algorithm[])
}

function staticKeys(value: unknown, field: string): KeySet {
  if (!isObject(value) || !Array.isArray(value.keys))
    fail(field, 'must be a JWK Set: { keys: [...] }')
  const keys = (value.keys as unknown[]).map((jwk, i) => {
    const key = importJwk(jwk)
    if (typeof key === 'string') fail(`${field}.keys[${String(i)}]`, `cannot be used: ${key}`)
    return key
  })
  if (keys.length === 0) fail(field, 'must hold at least one key')
  return new KeySet(keys)
}

// The key sources of an issuer, of which exactly one is set.
const KEY_SOURCES = ['jwksUri', 'discovery', 'keys', 'publicKey', 'secret'] as const

function keySource(
  config: IssuerConfig,
  field: string,
  spellings: { issuer: string; template: boolean },
  timing: JwksTiming,
  logger: Logger,
  clock: Clock,
  observer: Observer,
): { source: KeySource; hmac: boolean; publicKey?: VerificationKey } {
  const { issuer, template } = spellings
  const present = KEY_SOURCES.filter((name) => config[name] !== undefined && config[name] !== false)
  if (present.length === 0) {
    // `secret: process.env.HS_SECRET` with the variable unset: say that, not "no key source".
    const unset = KEY_SOURCES.find((name) => name in config && config[name] === undefined)
    if (unset !== undefined) {
      fail(`${field}.${unset}`, 'is undefined: is the environment variable it is read from set?')
    }
  }
  if (present.length !== 1) {
    fail(
      field,
      present.length === 0
        ? `needs one key source: ${KEY_SOURCES.join(', ')}`
        : `has ${present.join(' and ')}: exactly one key source is allowed`,
    )
  }
  if (config.jwksUri !== undefined) {
    const url = checkUrl(config.jwksUri instanceof URL ? config.jwksUri.href : config.jwksUri)
    if (typeof url === 'string') fail(`${field}.jwksUri`, url)
    return {
      source: new RemoteKeySource(issuer, url, timing, logger, clock, observer),
      hmac: false,
    }
  }
  if (config.discoveryUrl !== undefined && config.discovery === undefined) {
    fail(`${field}.discoveryUrl`, 'needs discovery: true')
  }
  const { discoveryTenant } = config
  if (discoveryTenant !== undefined && !(template && config.discovery !== undefined)) {
    fail(`${field}.discoveryTenant`, 'needs discovery: true and an issuer with {tenantid}')
  }
  if (config.discovery !== undefined) {
    if ((config.discovery as unknown) !== true)
      fail(`${field}.discovery`, 'must be true or left out')
    let metadata: URL
    if (config.discoveryUrl !== undefined) {
      const url = checkUrl(
        config.discoveryUrl instanceof URL ? config.discoveryUrl.href : config.discoveryUrl,
      )
      if (typeof url === 'string') fail(`${field}.discoveryUrl`, url)
      metadata = url
    } else {
      // A template's metadata is read at one tenant's address (Entra ID: `common`), and names the
      // template itself as its issuer.
      if (template && discoveryTenant === undefined) {
        fail(`${field}.discoveryTenant`, 'is required with discovery and a {tenantid} issuer')
      }
      const where = template
        ? issuer.replace(TENANT_PLACEHOLDER, discoveryTenant as string)
        : issuer
      const url = checkUrl(where)
      if (typeof url === 'string') fail(`${field}.issuer`, `${url} to be used with discovery`)
      metadata = discoveryUrl(where)
    }
    const discover = (): Promise<URL> => discoverJwksUri(issuer, timing.timeoutDuration, metadata)
    return {
      source: new RemoteKeySource(issuer, discover, timing, logger, clock, observer),
      hmac: false,
    }
  }
  if (config.keys !== undefined) {
    return { source: new StaticKeySource(staticKeys(config.keys, `${field}.keys`)), hmac: false }
  }
  if (config.publicKey !== undefined) {
    const publicKey = importPublicKey(config.publicKey, `${field}.publicKey`)
    return { source: new SingleKeySource(publicKey), hmac: false, publicKey }
  }
  const { secret } = config
  // RFC 8725 s3.1: an HMAC key is never public-key material (algorithm confusion by configuration).
  const material = describeKeyMaterial(secret)
  if (material !== undefined) {
    fail(
      `${field}.secret`,
      `is ${material}, not an HMAC secret: anyone holding the public key could sign tokens with ` +
        `it. Give the issuer's public key as publicKey instead`,
    )
  }
  const bytes =
    typeof secret === 'string'
      ? Buffer.byteLength(secret, 'utf8')
      : secret instanceof Uint8Array
        ? secret.byteLength
        : fail(`${field}.secret`, 'must be a string or a Uint8Array')
  if (bytes < MIN_SECRET_BYTES) {
    fail(`${field}.secret`, `must be at least ${String(MIN_SECRET_BYTES)} bytes (RFC 7518 s3.2)`)
  }
  return {
    source: new SingleKeySource(importSecret(secret as string | Uint8Array)),
    hmac: true,
  }
}

/** Validates {@link VerifierOptions}. Throws a TypeError naming the first bad field. */
export function resolveConfig(options: VerifierOptions): Config {
  if (!isObject(options)) fail('options', 'must be an object')
  checkOptionNames(options, VERIFIER_OPTION_NAMES)
  const clock = clockOf(options)
  const logger = options.logger ?? createDefaultLogger()
  for (const level of ['info', 'warn', 'error'] as const) {
    if (typeof logger[level] !== 'function') fail('logger', `must be a pino logger (no ${level}())`)
  }
  const clockTolerance = seconds(options.clockTolerance, 'clockTolerance', CLOCK_TOLERANCE_S)
  const maxTokenLength = positiveInteger(options.maxTokenLength, 'maxTokenLength', MAX_TOKEN_LENGTH)
  const jwks = options.jwks ?? {}
  if (!isObject(jwks)) fail('jwks', 'must be an object')
  checkOptionNames(jwks, JWKS_OPTION_NAMES, 'jwks')
  const timing: JwksTiming = {
    cacheMaxAge: positiveInteger(jwks.cacheMaxAge, 'jwks.cacheMaxAge', JWKS_CACHE_MAX_AGE_MS, 0),
    cooldownDuration: positiveInteger(
      jwks.cooldownDuration,
      'jwks.cooldownDuration',
      JWKS_COOLDOWN_MS,
      0,
    ),
    timeoutDuration: positiveInteger(jwks.timeoutDuration, 'jwks.timeoutDuration', JWKS_TIMEOUT_MS),
    maxStale:
      jwks.maxStale === Infinity
        ? Infinity
        : positiveInteger(jwks.maxStale, 'jwks.maxStale', JWKS_MAX_STALE_MS, 0),
  }
  if (timing.maxStale < timing.cacheMaxAge) {
    // Keys that stop serving before their refresh is due would make every request wait.
    fail(
      'jwks.maxStale',
      `must be at least jwks.cacheMaxAge (${String(timing.cacheMaxAge)} ms); it is ${String(timing.maxStale)} ms`,
    )
  }
  const realm = options.realm ?? DEFAULT_REALM
  if (typeof realm !== 'string' || !isQuotable(realm)) {
    fail('realm', 'must be printable ASCII without " or \\')
  }
  const cache = options.tokenCache ?? {}
  if (cache !== false && !isObject(cache)) fail('tokenCache', 'must be an object or false')
  if (cache !== false) checkOptionNames(cache, TOKEN_CACHE_OPTION_NAMES, 'tokenCache')
  const tokenCacheMax =
    cache === false ? 0 : positiveInteger(cache.max, 'tokenCache.max', TOKEN_CACHE_MAX, 0)

  if (!Array.isArray(options.issuers) || options.issuers.length === 0) {
    fail('issuers', 'is required: at least one trusted issuer')
  }
  const issuers = new Map<string, IssuerPolicy>()
  // Metrics read the key sources' state when a reader collects, never in between.
  const meterProvider = resolveMeterProvider(options.metrics)
  const observer = new Observer(
    meterProvider === undefined
      ? undefined
      : createMetrics(meterProvider, () =>
          [...issuers.values()].map((policy) => ({
            issuer: policy.issuer,
            ...policy.keys.state(clock.monotonic()),
          })),
        ),
  )
  const shared: IssuerShared = { timing, logger, clockTolerance, clock, observer }
  const spellings = new Set<string>()
  const list: readonly IssuerConfig[] = options.issuers
  for (const [i, config] of list.entries()) {
    const field = `issuers[${String(i)}]`
    const policy = resolveIssuerPolicy(config, field, shared)
    for (const spelling of policy.spellings) {
      if (spellings.has(spelling)) fail(`${field}.issuer`, 'is configured twice')
      spellings.add(spelling)
    }
    issuers.set(policy.issuer, policy)
  }
  const { resolveIssuer } = options
  if (resolveIssuer !== undefined && typeof resolveIssuer !== 'function') {
    fail('resolveIssuer', 'must be a function')
  }
  const limits = resolverLimits(options.resolveIssuerOptions, 'resolveIssuerOptions')
  const matcher = new IssuerMatcher([...issuers.values()], {
    resolve: resolveIssuer,
    limits,
    validate: (config) => resolveIssuerPolicy(config, 'resolveIssuer()', shared),
    logger,
  })
  const mtls = resolveMtls(options.mtls)
  const dpop = options.dpop === undefined ? undefined : resolveDpopOptions(options.dpop)
  // RFC 9728 s2: the metadata names the DPoP proof algorithms accepted, when DPoP is on.
  const resourceMetadata = resolveResourceMetadata(
    options.resourceMetadata,
    dpop === undefined ? {} : { dpopSigningAlgValuesSupported: dpop.algorithms },
  )
  return Object.freeze({
    issuers,
    matcher,
    logger,
    maxTokenLength,
    realm,
    tokenCacheMax,
    mtls,
    resourceMetadata,
    dpop,
    observer,
  })
}

/** What every issuer of one verifier shares. */
export interface IssuerShared {
  readonly timing: JwksTiming
  readonly logger: Logger
  readonly clockTolerance: number
  /** The verifier's clocks (clock.ts): key sources measure their intervals with it. */
  readonly clock: Clock
  /** Where key sources report their fetches (observe.ts). */
  readonly observer: Observer
}

/**
 * Validates one {@link IssuerConfig} into its policy: at start-up for `issuers[i]`, and for each
 * answer of `resolveIssuer`, so both are held to the same rules. Throws a TypeError naming the field.
 */
export function resolveIssuerPolicy(
  config: IssuerConfig,
  field: string,
  shared: IssuerShared,
): IssuerPolicy {
  if (!isObject(config)) fail(field, 'must be an object')
  checkOptionNames(config, ISSUER_OPTION_NAMES, field)
  const { spellings, template } = issuerSpellings(config.issuer, `${field}.issuer`)
  const issuer = spellings[0] as string
  const audience = audiences(config.audience, `${field}.audience`)
  const clientIds = stringSet(config.clientIds, `${field}.clientIds`)
  const claimRules = compileClaimRules(config.claims, `${field}.claims`)
  if (audience === null && clientIds === undefined && claimRules.length === 0) {
    // Without `aud`, nothing but the issuer would say the token is meant for this API: any token
    // of the issuer, for any app, would pass.
    fail(
      `${field}.audience`,
      'is null, so clientIds or claims must say which tokens are meant for this API',
    )
  }
  const tenants = tenantRule(config.tenants, `${field}.tenants`, template)
  const { source, hmac, publicKey } = keySource(
    config,
    field,
    { issuer, template },
    shared.timing,
    shared.logger,
    shared.clock,
    shared.observer,
  )
  if (config.requireExp !== undefined && typeof config.requireExp !== 'boolean') {
    fail(`${field}.requireExp`, 'must be a boolean')
  }
  const maxTokenAge =
    config.maxTokenAge === undefined
      ? undefined
      : seconds(config.maxTokenAge, `${field}.maxTokenAge`, 0)
  if (config.typ !== undefined && (typeof config.typ !== 'string' || config.typ === '')) {
    fail(`${field}.typ`, 'must be a non-empty string')
  }
  return Object.freeze({
    issuer,
    spellings,
    template,
    tenants,
    audiences: audience,
    clientIds,
    claimRules,
    scopeClaims: scopeClaimList(config.scopeClaims, `${field}.scopeClaims`),
    algorithms: algorithms(config.algorithms, `${field}.algorithms`, hmac, publicKey),
    keys: source,
    requireExp: config.requireExp ?? true,
    maxTokenAge,
    typ: config.typ === undefined ? undefined : normalizeTyp(config.typ),
    clockTolerance: seconds(
      config.clockTolerance,
      `${field}.clockTolerance`,
      shared.clockTolerance,
    ),
  })
}
