/**
 * The keys a verifier may use: a public JWK imported with the rules that decide whether it can
 * verify signatures at all (type, use, curve, RSA size and exponent, `kid` length), and an issuer's
 * HMAC secret wrapped as a key. Which algorithm may then use a key is algorithms.ts's concern.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto'

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

/** The key types a verification key can have (RFC 7518 s6). */
export type Family = 'RSA' | 'EC' | 'OKP' | 'oct'

/** The curves of OKP keys that verify EdDSA signatures. */
export const EDDSA_CURVES: ReadonlySet<string> = new Set(['Ed25519', 'Ed448'])
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
