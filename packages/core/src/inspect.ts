/**
 * A JWK Set judged key by key with the verifier's own rules, for `trustgate doctor`: which keys
 * the verifier would use, with which algorithms, and why it skips the others. Reusing
 * {@link importJwk} and {@link keyFits} means the doctor can never disagree with `verify`.
 */
import { createPublicKey } from 'node:crypto'
import { isHmac, keyFits, SUPPORTED_ALGORITHMS, type Algorithm } from './algorithms.js'
import { importJwk, type KeyRejection } from './jwk.js'
import { decodeToken, isObject, type JsonObject } from './token.js'

/** One key of a JWK Set, as the verifier sees it. */
export interface KeyReport {
  /** Position in the set's `keys` array. */
  readonly index: number
  readonly kid: string | undefined
  readonly kty: string | undefined
  /** The JWK's own `alg`, if it names one. */
  readonly alg: string | undefined
  readonly use: string | undefined
  readonly crv: string | undefined
  /** RSA modulus length in bits, weak keys included; `undefined` for other key types. */
  readonly bits: number | undefined
  /** Why the verifier skips this key, or `undefined` when it imports it. */
  readonly rejection: KeyRejection | undefined
  /**
   * The algorithms the verifier would verify with this key (its type, curve and own `alg`
   * allowing). Empty for a skipped key, and for an imported key whose `alg` fits no algorithm.
   */
  readonly algorithms: readonly Algorithm[]
}

const ASYMMETRIC = SUPPORTED_ALGORITHMS.filter((alg) => !isHmac(alg))

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function rsaBits(jwk: Record<string, unknown>): number | undefined {
  if (jwk.kty !== 'RSA') return undefined
  try {
    const key = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e } as never, format: 'jwk' })
    return key.asymmetricKeyDetails?.modulusLength
  } catch {
    return undefined
  }
}

/**
 * Reports on every key of a JWK Set document (RFC 7517 s5). Returns `undefined` when the document
 * is not a JWK Set (`{ "keys": [...] }`).
 */
export function inspectJwks(document: unknown): readonly KeyReport[] | undefined {
  if (!isObject(document) || !Array.isArray(document.keys)) return undefined
  return (document.keys as unknown[]).map((jwk, index): KeyReport => {
    const fields = isObject(jwk) ? jwk : {}
    const key = importJwk(jwk)
    return {
      index,
      kid: text(fields.kid),
      kty: text(fields.kty),
      alg: text(fields.alg),
      use: text(fields.use),
      crv: text(fields.crv),
      bits: rsaBits(fields),
      rejection: typeof key === 'string' ? key : undefined,
      algorithms: typeof key === 'string' ? [] : ASYMMETRIC.filter((alg) => keyFits(key, alg)),
    }
  })
}

/** A token's parts, decoded and not verified: nothing in it is proven. */
export interface UntrustedToken {
  readonly header: JsonObject
  readonly claims: JsonObject
  /** The signature's length only: the signature itself is never handed out for display. */
  readonly signatureBytes: number
}

/**
 * Decodes a token without verifying it, with the verifier's own decoder (three base64url parts,
 * the first two UTF-8 JSON objects), for `trustgate inspect`. `undefined` for anything else.
 * Never use what it returns to decide anything: only `verify` proves a token.
 */
export function decodeUntrusted(token: string): UntrustedToken | undefined {
  // No length cap: this is offline display; `verify` applies `maxTokenLength`.
  const decoded = decodeToken(token, Number.POSITIVE_INFINITY)
  if (decoded === undefined) return undefined
  return {
    header: decoded.header,
    claims: decoded.payload,
    signatureBytes: decoded.signatureBytes,
  }
}
