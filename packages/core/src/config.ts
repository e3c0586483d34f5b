/**
 * Validates the options once, at start-up, into a frozen map keyed by exact issuer string.
 * Every mistake is a TypeError that names the field: bad configuration must never reach a request.
 */
import {
  DEFAULT_ALGORITHMS,
  DEFAULT_HMAC_ALGORITHMS,
  importJwk,
  importSecret,
  isAlgorithm,
  isHmac,
  keyFits,
  MIN_SECRET_BYTES,
  SUPPORTED_ALGORITHMS,
  type Algorithm,
  type VerificationKey,
} from './algorithms.js'
import { discoverJwksUri } from './discovery.js'
import { DEFAULT_REALM, isQuotable } from './errors.js'
import { checkUrl } from './fetch.js'
import {
  KeySet,
  RemoteKeySource,
  SecretKeySource,
  StaticKeySource,
  type JwksTiming,
  type KeySource,
} from './jwks.js'
import { createDefaultLogger, type Logger } from './log.js'
import { resolveMtls, type MtlsOptions, type MtlsPolicy } from './mtls.js'
import { checkOptionNames, fail } from './options.js'
import {
  algorithmsFor,
  describeKeyMaterial,
  importPublicKey,
  PublicKeySource,
  type PublicKeyInput,
} from './public-key.js'
import { isObject } from './token.js'

/**
 * One trusted issuer. Exactly one of `jwksUri`, `discovery`, `keys`, `publicKey`, `secret` is set.
 */
export interface IssuerConfig {
  /** The exact `iss` value trusted: compared by case-sensitive string equality. */
  issuer: string
  /** The token's `aud` must contain one of these. */
  audience: string | readonly string[]
  /** The issuer's JWKS endpoint (https:, or http: on a loopback host). */
  jwksUri?: string | URL
  /** Find `jwks_uri` in `<issuer>/.well-known/openid-configuration`. */
  discovery?: boolean
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
}

export const CLOCK_TOLERANCE_S = 5
export const MAX_TOKEN_LENGTH = 16384
export const JWKS_CACHE_MAX_AGE_MS = 600_000
export const JWKS_COOLDOWN_MS = 30_000
export const JWKS_TIMEOUT_MS = 5_000
export const TOKEN_CACHE_MAX = 10_000

/** One issuer's validated rules. */
export interface IssuerPolicy {
  readonly issuer: string
  readonly audiences: ReadonlySet<string>
  readonly algorithms: ReadonlySet<Algorithm>
  readonly keys: KeySource
  readonly requireExp: boolean
  readonly maxTokenAge: number | undefined
  readonly typ: string | undefined
  readonly clockTolerance: number
}

/** The validated options. */
export interface Config {
  readonly issuers: ReadonlyMap<string, IssuerPolicy>
  readonly logger: Logger
  readonly maxTokenLength: number
  readonly realm: string
  readonly tokenCacheMax: number
  readonly mtls: MtlsPolicy | undefined
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
})

/** The names {@link IssuerConfig} accepts. */
export const ISSUER_OPTION_NAMES = optionNames<IssuerConfig>({
  issuer: true,
  audience: true,
  jwksUri: true,
  discovery: true,
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

function audiences(value: unknown, field: string): Set<string> {
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
  timing: JwksTiming,
  logger: Logger,
): { source: KeySource; hmac: boolean; publicKey?: VerificationKey } {
  const { issuer } = config
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
    return { source: new RemoteKeySource(issuer, url, timing, logger), hmac: false }
  }
  if (config.discovery !== undefined) {
    if ((config.discovery as unknown) !== true)
      fail(`${field}.discovery`, 'must be true or left out')
    const url = checkUrl(issuer)
    if (typeof url === 'string') fail(`${field}.issuer`, `${url} to be used with discovery`)
    const discover = (): Promise<URL> => discoverJwksUri(issuer, timing.timeoutDuration)
    return { source: new RemoteKeySource(issuer, discover, timing, logger), hmac: false }
  }
  if (config.keys !== undefined) {
    return { source: new StaticKeySource(staticKeys(config.keys, `${field}.keys`)), hmac: false }
  }
  if (config.publicKey !== undefined) {
    const publicKey = importPublicKey(config.publicKey, `${field}.publicKey`)
    return { source: new PublicKeySource(publicKey), hmac: false, publicKey }
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
    source: new SecretKeySource(importSecret(secret as string | Uint8Array)),
    hmac: true,
  }
}

/** Validates {@link VerifierOptions}. Throws a TypeError naming the first bad field. */
export function resolveConfig(options: VerifierOptions): Config {
  if (!isObject(options)) fail('options', 'must be an object')
  checkOptionNames(options, VERIFIER_OPTION_NAMES)
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
  const list: readonly IssuerConfig[] = options.issuers
  for (const [i, config] of list.entries()) {
    const field = `issuers[${String(i)}]`
    if (!isObject(config)) fail(field, 'must be an object')
    checkOptionNames(config, ISSUER_OPTION_NAMES, field)
    const { issuer } = config
    if (typeof issuer !== 'string' || issuer === '')
      fail(`${field}.issuer`, 'is required: a non-empty string')
    if (issuers.has(issuer)) fail(`${field}.issuer`, 'is configured twice')
    const audience = audiences(config.audience, `${field}.audience`)
    const { source, hmac, publicKey } = keySource(config, field, timing, logger)
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
    issuers.set(
      issuer,
      Object.freeze({
        issuer,
        audiences: audience,
        algorithms: algorithms(config.algorithms, `${field}.algorithms`, hmac, publicKey),
        keys: source,
        requireExp: config.requireExp ?? true,
        maxTokenAge,
        typ: config.typ === undefined ? undefined : normalizeTyp(config.typ),
        clockTolerance: seconds(config.clockTolerance, `${field}.clockTolerance`, clockTolerance),
      }),
    )
  }
  const mtls = resolveMtls(options.mtls)
  return Object.freeze({ issuers, logger, maxTokenLength, realm, tokenCacheMax, mtls })
}
