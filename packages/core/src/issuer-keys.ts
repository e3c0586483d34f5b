/**
 * An issuer's key source, of which exactly one is configured (`jwksUri`, `discovery`, `keys`,
 * `publicKey`, `secret`), and its `alg` allowlist, which depends on that source: HMAC algorithms
 * only with a `secret`, a `publicKey`'s own algorithms by default. Start-up only; each mistake is a
 * TypeError naming the field.
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
import { discoverJwksUri, discoveryUrl } from './discovery.js'
import { checkUrl } from './fetch.js'
import type { IssuerConfig, IssuerShared } from './issuer-config.js'
import { TENANT_PLACEHOLDER } from './issuer-templates.js'
import { importJwk, importSecret, MIN_SECRET_BYTES, type VerificationKey } from './jwk.js'
import { RemoteKeySource } from './jwks.js'
import { KeySet } from './key-set.js'
import { SingleKeySource, StaticKeySource, type KeySource } from './key-source.js'
import { fail } from './options.js'
import { algorithmsFor, describeKeyMaterial, importPublicKey } from './public-key.js'
import { isObject } from './token.js'

/** An issuer's key source, and what its `alg` allowlist depends on. */
export interface IssuerKeys {
  readonly source: KeySource
  /** True for a `secret`: HMAC algorithms only. */
  readonly hmac: boolean
  /** The `publicKey`, whose type decides the algorithms it verifies. */
  readonly publicKey?: VerificationKey
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

// A URL option, given as a string or a URL.
function urlOption(value: string | URL, field: string): URL {
  const url = checkUrl(value instanceof URL ? value.href : value)
  return typeof url === 'string' ? fail(field, url) : url
}

/**
 * Validates the one key source of an issuer (canonical spelling `issuer`; `template` when it holds
 * `{tenantid}`) into a {@link KeySource}.
 */
export function resolveKeySource(
  config: IssuerConfig,
  field: string,
  issuer: string,
  template: boolean,
  shared: IssuerShared,
): IssuerKeys {
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
  const { timing, logger, clock, observer } = shared
  const remote = (location: URL | (() => Promise<URL>)): IssuerKeys => ({
    source: new RemoteKeySource(issuer, location, timing, logger, clock, observer),
    hmac: false,
  })
  if (config.jwksUri !== undefined) return remote(urlOption(config.jwksUri, `${field}.jwksUri`))
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
    const metadata = metadataUrl(config, field, issuer, template)
    return remote(() => discoverJwksUri(issuer, timing.timeoutDuration, metadata))
  }
  if (config.keys !== undefined) {
    return { source: new StaticKeySource(staticKeys(config.keys, `${field}.keys`)), hmac: false }
  }
  if (config.publicKey !== undefined) {
    const publicKey = importPublicKey(config.publicKey, `${field}.publicKey`)
    return { source: new SingleKeySource(publicKey), hmac: false, publicKey }
  }
  return { source: new SingleKeySource(hmacSecret(config.secret, `${field}.secret`)), hmac: true }
}

// Where the issuer's OpenID metadata is: `discoveryUrl`, else under the issuer.
function metadataUrl(config: IssuerConfig, field: string, issuer: string, template: boolean): URL {
  if (config.discoveryUrl !== undefined)
    return urlOption(config.discoveryUrl, `${field}.discoveryUrl`)
  // A template's metadata is read at one tenant's address (Entra ID: `common`), and names the
  // template itself as its issuer.
  const { discoveryTenant } = config
  if (template && discoveryTenant === undefined) {
    fail(`${field}.discoveryTenant`, 'is required with discovery and a {tenantid} issuer')
  }
  const where = template ? issuer.replace(TENANT_PLACEHOLDER, discoveryTenant as string) : issuer
  const url = checkUrl(where)
  if (typeof url === 'string') fail(`${field}.issuer`, `${url} to be used with discovery`)
  return discoveryUrl(where)
}

// RFC 8725 s3.1: an HMAC key is never public-key material (algorithm confusion by configuration).
function hmacSecret(secret: unknown, field: string): VerificationKey {
  const material = describeKeyMaterial(secret)
  if (material !== undefined) {
    fail(
      field,
      `is ${material}, not an HMAC secret: anyone holding the public key could sign tokens with ` +
        `it. Give the issuer's public key as publicKey instead`,
    )
  }
  const bytes =
    typeof secret === 'string'
      ? Buffer.byteLength(secret, 'utf8')
      : secret instanceof Uint8Array
        ? secret.byteLength
        : fail(field, 'must be a string or a Uint8Array')
  if (bytes < MIN_SECRET_BYTES) {
    fail(field, `must be at least ${String(MIN_SECRET_BYTES)} bytes (RFC 7518 s3.2)`)
  }
  return importSecret(secret as string | Uint8Array)
}

/**
 * Validates an issuer's `algorithms` against its key source; left out, the defaults that source
 * verifies. `none` is never admitted.
 */
export function allowedAlgorithms(value: unknown, field: string, keys: IssuerKeys): Set<Algorithm> {
  const { hmac, publicKey } = keys
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
