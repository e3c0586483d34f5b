/**
 * Which algorithm may be used with which key, and the one function that checks a signature.
 * The algorithm always comes from the issuer's allowlist and the key's own parameters
 * (RFC 8725 s3.1, s3.2): never from the key bytes, never from the token alone. The keys
 * themselves, and the rules for importing them, are in jwk.ts.
 */
import { constants, createHmac, timingSafeEqual, verify, type KeyObject } from 'node:crypto'
import { EDDSA_CURVES, type Family, type VerificationKey } from './jwk.js'

/** Every JWS algorithm trustgate can verify. `none` is not one of them, on purpose. */
export const SUPPORTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'HS256',
  'HS384',
  'HS512',
] as const

/** A JWS algorithm trustgate can verify. */
export type Algorithm = (typeof SUPPORTED_ALGORITHMS)[number]

/** The default allowlist of an issuer with public keys. */
export const DEFAULT_ALGORITHMS: readonly Algorithm[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
])

/** The default allowlist of an issuer configured with a `secret`. */
export const DEFAULT_HMAC_ALGORITHMS: readonly Algorithm[] = Object.freeze([
  'HS256',
  'HS384',
  'HS512',
])

const SUPPORTED: ReadonlySet<string> = new Set(SUPPORTED_ALGORITHMS)

/** True for a supported algorithm name. */
export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && SUPPORTED.has(value)
}

/** True for HS256/384/512. */
export function isHmac(alg: Algorithm): boolean {
  return alg.startsWith('HS')
}

interface Spec {
  readonly family: Family
  readonly hash: string | null
  readonly curve?: string
  readonly pss?: boolean
  readonly sigLength?: number
}

// The fixed table from an already-allowed `alg` to how Node's crypto checks it (RFC 7518 s3).
const SPECS: Readonly<Record<Algorithm, Spec>> = {
  RS256: { family: 'RSA', hash: 'sha256' },
  RS384: { family: 'RSA', hash: 'sha384' },
  RS512: { family: 'RSA', hash: 'sha512' },
  PS256: { family: 'RSA', hash: 'sha256', pss: true },
  PS384: { family: 'RSA', hash: 'sha384', pss: true },
  PS512: { family: 'RSA', hash: 'sha512', pss: true },
  ES256: { family: 'EC', hash: 'sha256', curve: 'P-256', sigLength: 64 },
  ES384: { family: 'EC', hash: 'sha384', curve: 'P-384', sigLength: 96 },
  ES512: { family: 'EC', hash: 'sha512', curve: 'P-521', sigLength: 132 },
  EdDSA: { family: 'OKP', hash: null },
  HS256: { family: 'oct', hash: 'sha256' },
  HS384: { family: 'oct', hash: 'sha384' },
  HS512: { family: 'oct', hash: 'sha512' },
}

/**
 * True if `key` may verify a signature made with `alg`: the key type and curve fit the algorithm,
 * and a JWK that names its own `alg` is used with that one only.
 */
export function keyFits(key: VerificationKey, alg: Algorithm): boolean {
  const spec = SPECS[alg]
  if (key.family !== spec.family) return false
  if (key.alg !== undefined && key.alg !== alg) return false
  if (spec.family === 'EC') return key.curve === spec.curve
  if (spec.family === 'OKP') return key.curve !== undefined && EDDSA_CURVES.has(key.curve)
  return true
}

// The modulus size in octets of each RSA key, read once: KeyObject#asymmetricKeyDetails copies
// an object on every read.
const RSA_SIGNATURE_BYTES = new WeakMap<KeyObject, number>()
function rsaSignatureBytes(keyObject: KeyObject): number {
  let bytes = RSA_SIGNATURE_BYTES.get(keyObject)
  if (bytes === undefined) {
    bytes = ((keyObject.asymmetricKeyDetails?.modulusLength ?? 0) + 7) >> 3
    RSA_SIGNATURE_BYTES.set(keyObject, bytes)
  }
  return bytes
}

/**
 * Checks a JWS signature with Node's own crypto, synchronously. `alg` has already been allowed
 * for the issuer and checked against the key with {@link keyFits}.
 */
export function verifySignature(
  alg: Algorithm,
  key: VerificationKey,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const spec = SPECS[alg]
  switch (spec.family) {
    case 'oct': {
      const mac = createHmac(spec.hash as string, key.keyObject)
        .update(data)
        .digest()
      return mac.length === signature.length && timingSafeEqual(mac, signature)
    }
    case 'EC':
      // RFC 7518 s3.4: R || S, each the size of the curve order; not DER.
      if (signature.length !== spec.sigLength) return false
      return verify(spec.hash, data, { key: key.keyObject, dsaEncoding: 'ieee-p1363' }, signature)
    case 'OKP':
      return verify(null, data, key.keyObject, signature)
    case 'RSA':
      // RFC 8017 s8.2.2 step 1 (and s8.1.2): a signature that is not exactly k octets is invalid.
      // OpenSSL accepts one whose leading zero octets were dropped, which gives one signature
      // a second spelling (a separate cache entry, a way around a list keyed on the token).
      if (signature.length !== rsaSignatureBytes(key.keyObject)) return false
      return verify(
        spec.hash,
        data,
        spec.pss === true
          ? {
              key: key.keyObject,
              padding: constants.RSA_PKCS1_PSS_PADDING,
              // RFC 7518 s3.5: the salt is as long as the hash output.
              saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
            }
          : { key: key.keyObject, padding: constants.RSA_PKCS1_PADDING },
        signature,
      )
  }
}
