/**
 * Which algorithm may be used with which key, and the one function that checks a signature.
 * The algorithm always comes from the issuer's allowlist and the key's own parameters
 * (RFC 8725 s3.1, s3.2): never from the key bytes, never from the token alone.
 */
import {
  constants,
  createHmac,
  createPublicKey,
  createSecretKey,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto'

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

/** RFC 8725 s3.5 and NIST SP 800-131A: no RSA modulus under 2048 bits. */
export const MIN_RSA_BITS = 2048

/**
 * No RSA modulus over 8192 bits. Verification costs grow with the modulus, so a key set could
 * otherwise make every forged token expensive to refuse; no issuer needs more (issue 9, item 7).
 */
export const MAX_RSA_BITS = 8192

/**
 * No RSA public exponent over 2^32. Verification costs grow with the exponent: a 3072-bit exponent
 * made each forged token cost 5 ms instead of 32 µs. Real keys use 65537 (RFC 7518 s6.3.1.2 does
 * not bound it; NIST SP 800-56B caps it below 2^256, we cap far lower).
 */
export const MAX_RSA_EXPONENT = 2n ** 32n

/**
 * Longest `kid` a key may have. Real ones are thumbprints, UUIDs or short names (Google 40
 * characters, Entra ID 27, Cognito 44); a key with a longer one is skipped, so that a key set cannot
 * carry a megabyte `kid` into memory and log lines (issue 9, item 8).
 */
export const MAX_KID_LENGTH = 256

/** RFC 7518 s3.2: an HMAC key at least as long as the hash output; we ask that of HS256 at least. */
export const MIN_SECRET_BYTES = 32

const SUPPORTED: ReadonlySet<string> = new Set(SUPPORTED_ALGORITHMS)

/** True for a supported algorithm name. */
export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && SUPPORTED.has(value)
}

/** True for HS256/384/512. */
export function isHmac(alg: Algorithm): boolean {
  return alg.startsWith('HS')
}

type Family = 'RSA' | 'EC' | 'OKP' | 'oct'

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

const EDDSA_CURVES = new Set(['Ed25519', 'Ed448'])
const EC_CURVES = new Set(['P-256', 'P-384', 'P-521'])

/** A verification key, imported once and kept with the JWK parameters that restrict its use. */
export interface VerificationKey {
  readonly kid: string | undefined
  readonly family: Family
  /** `crv` for EC and OKP keys. */
  readonly curve: string | undefined
  /** The JWK's own `alg`, if it names one: then only that algorithm may use the key. */
  readonly alg: string | undefined
  readonly keyObject: KeyObject
  /**
   * The identity of the JWK: every member that decides whether and how it is used ({@link jwkIdentity}).
   * Equal ids mean the key need not be imported again when a refreshed set still holds it.
   */
  readonly id: string
}

/** Why a JWK cannot serve as a verification key. */
export type KeyRejection =
  | 'not_an_object'
  | 'unsupported_kty'
  | 'symmetric_key'
  | 'not_for_signatures'
  | 'unsupported_curve'
  | 'weak_rsa_key'
  | 'large_rsa_key'
  | 'large_rsa_exponent'
  | 'long_kid'
  | 'invalid_key'

/**
 * Imports one public JWK of a JWK Set, or says why it cannot be used. Symmetric (`oct`) keys are
 * refused: an HMAC key never comes from a key set, only from an issuer's configured `secret`.
 */
export function importJwk(jwk: unknown): VerificationKey | KeyRejection {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return 'not_an_object'
  const { kty, crv, kid, alg, use, key_ops: keyOps } = jwk as Record<string, unknown>
  if (kty === 'oct') return 'symmetric_key'
  if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') return 'unsupported_kty'
  // RFC 7517 s4.2, s4.3: a key meant for encryption must not verify signatures.
  if (use !== undefined && use !== 'sig') return 'not_for_signatures'
  if (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.includes('verify'))) {
    return 'not_for_signatures'
  }
  if (kid !== undefined && typeof kid !== 'string') return 'invalid_key'
  if (kid !== undefined && kid.length > MAX_KID_LENGTH) return 'long_kid'
  if (alg !== undefined && typeof alg !== 'string') return 'invalid_key'
  if (kty === 'EC' && !(typeof crv === 'string' && EC_CURVES.has(crv))) return 'unsupported_curve'
  if (kty === 'OKP' && !(typeof crv === 'string' && EDDSA_CURVES.has(crv)))
    return 'unsupported_curve'
  const {
    d: _d,
    p: _p,
    q: _q,
    dp: _dp,
    dq: _dq,
    qi: _qi,
    oth: _oth,
    k: _k,
    ...publicJwk
  } = jwk as Record<string, unknown>
  let keyObject: KeyObject
  try {
    keyObject = createPublicKey({ key: publicJwk as never, format: 'jwk' })
  } catch {
    return 'invalid_key'
  }
  if (kty === 'RSA') {
    const rejection = checkRsaKey(keyObject)
    if (rejection !== undefined) return rejection
  }
  return {
    kid,
    family: kty,
    curve: typeof crv === 'string' ? crv : undefined,
    alg,
    keyObject,
    id: jwkIdentity(jwk as Record<string, unknown>),
  }
}

/**
 * The identity of a public JWK, computed without importing it: the members that decide whether
 * {@link importJwk} accepts it and how the key may be used, JSON-encoded so that different
 * members never give the same string. Private members are left out, as import drops them.
 */
export function jwkIdentity(jwk: Readonly<Record<string, unknown>>): string {
  const { kty, kid, alg, use, key_ops: keyOps, crv, n, e, x, y } = jwk
  // An object, not an array: a missing member is left out rather than written as null, so
  // `kid: null` (refused) never shares the identity of a key without `kid`.
  return JSON.stringify({ kty, kid, alg, use, keyOps, crv, n, e, x, y })
}

/**
 * The size rules of an imported RSA public key: a modulus of 2048 to 8192 bits and a public
 * exponent of at most 2^32. Returns why the key cannot be used, or `undefined` when it can.
 */
export function checkRsaKey(
  keyObject: KeyObject,
): 'weak_rsa_key' | 'large_rsa_key' | 'large_rsa_exponent' | undefined {
  const details = keyObject.asymmetricKeyDetails
  const bits = details?.modulusLength ?? 0
  if (bits < MIN_RSA_BITS) return 'weak_rsa_key'
  if (bits > MAX_RSA_BITS) return 'large_rsa_key'
  if ((details?.publicExponent ?? 0n) > MAX_RSA_EXPONENT) return 'large_rsa_exponent'
  return undefined
}

/** Wraps a configured HMAC secret as a verification key. */
export function importSecret(secret: string | Uint8Array): VerificationKey {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret
  return {
    kid: undefined,
    family: 'oct',
    curve: undefined,
    alg: undefined,
    keyObject: createSecretKey(bytes),
    id: 'oct',
  }
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
  signingInput: string,
  signature: Uint8Array,
): boolean {
  const spec = SPECS[alg]
  const data = Buffer.from(signingInput, 'latin1')
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
