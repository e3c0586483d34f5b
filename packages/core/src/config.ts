/**
 * Validates the verifier's options once, at start-up, into a frozen `Config`: the verifier-level
 * settings here, each issuer by issuer-config.ts, the features by their own modules (dpop-options.ts,
 * mtls.ts, resource-metadata.ts, issuers.ts). Every mistake is a TypeError that names the field:
 * bad configuration must never reach a request.
 */
import { clockOf } from './clock.js'
import { resolveDpopOptions, type DpopConfig } from './dpop-options.js'
import { checkQuotable, DEFAULT_REALM } from './errors.js'
import {
  resolveIssuerPolicy,
  type IssuerConfig,
  type IssuerPolicy,
  type IssuerShared,
} from './issuer-config.js'
import { resolverLimits } from './issuer-resolver.js'
import { IssuerMatcher } from './issuers.js'
import type { JwksTiming } from './jwks.js'
import { createDefaultLogger, type Logger } from './log.js'
import { createMetrics, resolveMeterProvider } from './metrics.js'
import { resolveMtls, type MtlsPolicy } from './mtls.js'
import { Observer } from './observe.js'
import { checkOptionNames, fail, integer, seconds } from './options.js'
import { resolveResourceMetadata, type ResourceMetadata } from './resource-metadata.js'
import { isObject } from './token.js'
import {
  CLOCK_TOLERANCE_S,
  JWKS_CACHE_MAX_AGE_MS,
  JWKS_COOLDOWN_MS,
  JWKS_MAX_STALE_MS,
  JWKS_OPTION_NAMES,
  JWKS_TIMEOUT_MS,
  MAX_TOKEN_LENGTH,
  TOKEN_CACHE_MAX,
  TOKEN_CACHE_OPTION_NAMES,
  VERIFIER_OPTION_NAMES,
  type VerifierOptions,
} from './verifier-options.js'

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
  /** DPoP (dpop-options.ts), validated; `undefined` when off. */
  readonly dpop: DpopConfig | undefined
  /** Publishes outcomes and key-set events, and records metrics (observe.ts). */
  readonly observer: Observer
}

// The JWKS cache timing of every remote key source.
function jwksTiming(value: unknown): JwksTiming {
  const jwks = value ?? {}
  if (!isObject(jwks)) fail('jwks', 'must be an object')
  checkOptionNames(jwks, JWKS_OPTION_NAMES, 'jwks')
  const timing: JwksTiming = {
    cacheMaxAge: integer(jwks.cacheMaxAge, 'jwks.cacheMaxAge', JWKS_CACHE_MAX_AGE_MS, 0),
    cooldownDuration: integer(jwks.cooldownDuration, 'jwks.cooldownDuration', JWKS_COOLDOWN_MS, 0),
    timeoutDuration: integer(jwks.timeoutDuration, 'jwks.timeoutDuration', JWKS_TIMEOUT_MS),
    maxStale:
      jwks.maxStale === Infinity
        ? Infinity
        : integer(jwks.maxStale, 'jwks.maxStale', JWKS_MAX_STALE_MS, 0),
  }
  if (timing.maxStale < timing.cacheMaxAge) {
    // Keys that stop serving before their refresh is due would make every request wait.
    fail(
      'jwks.maxStale',
      `must be at least jwks.cacheMaxAge (${String(timing.cacheMaxAge)} ms); it is ${String(timing.maxStale)} ms`,
    )
  }
  return timing
}

// The verified-token cache's size; 0 when it is off.
function tokenCacheSize(value: unknown): number {
  const cache = value ?? {}
  if (cache === false) return 0
  if (!isObject(cache)) fail('tokenCache', 'must be an object or false')
  checkOptionNames(cache, TOKEN_CACHE_OPTION_NAMES, 'tokenCache')
  return integer(cache.max, 'tokenCache.max', TOKEN_CACHE_MAX, 0)
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
  const maxTokenLength = integer(options.maxTokenLength, 'maxTokenLength', MAX_TOKEN_LENGTH)
  const timing = jwksTiming(options.jwks)
  const realm = checkQuotable(options.realm ?? DEFAULT_REALM, 'realm')
  const tokenCacheMax = tokenCacheSize(options.tokenCache)

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
