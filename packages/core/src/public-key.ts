/**
 * The `publicKey` key source, and the refusal of public-key material given as an HMAC `secret`.
 *
 * A user coming from passport-jwt (`secretOrKey`) or @fastify/jwt passes the issuer's PEM public
 * key as `secret`. Taken as an HMAC key, that reopens algorithm confusion by configuration: anyone
 * holding the public key (everyone) can sign HS256 tokens with it. An HMAC key is therefore never
 * taken from anything that is, or holds, a public key (RFC 8725 s3.1), and such keys have a place
 * of their own: `publicKey`.
 */
import {
  createPrivateKey,
  createPublicKey,
  KeyObject,
  X509Certificate,
  type JsonWebKey,
} from 'node:crypto'
import { keyFits, SUPPORTED_ALGORITHMS, isHmac, type Algorithm } from './algorithms.js'
import { importJwk, type KeyRejection, type VerificationKey } from './jwk.js'
import { fail } from './options.js'
import { isObject } from './token.js'

/**
 * One static public key: a PEM (SPKI public key, PKCS#1 RSA public key, or X.509 certificate, of
 * which only the key is used), a public `KeyObject`, an `X509Certificate`, or a public JWK.
 */
export type PublicKeyInput = string | KeyObject | X509Certificate | JsonWebKey

// Any PEM block: a public key, a private key, a certificate. None of them is an HMAC secret.
const PEM = /-----BEGIN [A-Z0-9 ]+-----/
// A PEM body pasted without its armour: base64 of DER, long enough to hold a key.
const BARE_BASE64 = /^[A-Za-z0-9+/]{40,}={0,2}$/

function importable(attempt: () => unknown): boolean {
  try {
    attempt()
    return true
  } catch {
    return false
  }
}

// DER in any form Node imports a key from: a public key, a private key, a certificate.
function isDerKey(bytes: Buffer): boolean {
  return (
    (['spki', 'pkcs1'] as const).some((type) =>
      importable(() => createPublicKey({ key: bytes, format: 'der', type })),
    ) ||
    (['pkcs8', 'sec1'] as const).some((type) =>
      importable(() => createPrivateKey({ key: bytes, format: 'der', type })),
    ) ||
    importable(() => new X509Certificate(bytes))
  )
}

function describeText(text: string): string | undefined {
  if (PEM.test(text)) return 'a PEM block'
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) {
    let value: unknown
    try {
      value = JSON.parse(trimmed)
    } catch {
      value = undefined
    }
    if (isObject(value) && ('kty' in value || 'keys' in value)) return 'a JWK as JSON text'
  }
  const compact = trimmed.replace(/\s+/g, '')
  if (BARE_BASE64.test(compact) && isDerKey(Buffer.from(compact, 'base64'))) {
    return 'a key in base64 DER'
  }
  return undefined
}

/**
 * What key material `secret` is, if it is any: a PEM block, a JWK (object or JSON text), a
 * `KeyObject` of an asymmetric key, a certificate, or bytes Node imports as a key. `undefined`
 * for an ordinary secret. Start-up only: it may try several imports.
 */
export function describeKeyMaterial(secret: unknown): string | undefined {
  if (typeof secret === 'string') {
    return describeText(secret) ?? (importable(() => createPublicKey(secret)) ? 'a key' : undefined)
  }
  if (secret instanceof Uint8Array) {
    const bytes = Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
    if (isDerKey(bytes) || importable(() => createPublicKey(bytes))) return 'a key'
    return describeText(bytes.toString('latin1'))
  }
  if (secret instanceof KeyObject) {
    return secret.type === 'secret' ? undefined : `a ${secret.type} KeyObject`
  }
  if (secret instanceof X509Certificate) return 'a certificate'
  if (isObject(secret) && ('kty' in secret || 'keys' in secret)) return 'a JWK'
  return undefined
}

const REJECTIONS: Readonly<Record<KeyRejection, string>> = {
  not_an_object: 'must be a PEM string, a public KeyObject, an X509Certificate or a public JWK',
  unsupported_kty: 'is not an RSA, EC or OKP key',
  symmetric_key: 'is a symmetric key: an HMAC key goes in secret',
  not_for_signatures: 'is not a signature key (its use or key_ops says otherwise)',
  unsupported_curve: 'has a curve trustgate does not verify with (P-256/384/521, Ed25519, Ed448)',
  weak_rsa_key: 'is an RSA key under 2048 bits (RFC 8725 s3.5)',
  large_rsa_key: 'is an RSA key over 8192 bits',
  large_rsa_exponent: 'is an RSA key with a public exponent over 2^32',
  long_kid: 'has a kid over 256 characters',
  invalid_key: 'is not a valid public key',
}

function fromKeyObject(keyObject: KeyObject, field: string): VerificationKey {
  if (keyObject.type === 'secret') fail(field, 'is a secret key: an HMAC key goes in secret')
  if (keyObject.type === 'private') {
    fail(field, 'is a private key: give only its public half')
  }
  let jwk: JsonWebKey
  try {
    jwk = keyObject.export({ format: 'jwk' })
  } catch {
    // RSA-PSS-restricted keys, DSA, DH: no JWK form, and no JWS algorithm of ours.
    return fail(field, `is a ${String(keyObject.asymmetricKeyType)} key, which JWS does not use`)
  }
  return fromJwk(jwk, field)
}

function fromJwk(jwk: object, field: string): VerificationKey {
  if ('keys' in jwk) fail(field, 'is a JWK Set: a set of keys goes in keys')
  if ('d' in jwk) fail(field, 'is a private JWK: give only its public half')
  // The same import, and the same rules (RSA size, curves, use), as a key of a JWK Set.
  const key = importJwk(jwk)
  return typeof key === 'string' ? fail(field, REJECTIONS[key]) : key
}

/**
 * Imports an issuer's `publicKey`, with the rules of a JWK Set's keys. Throws a TypeError naming
 * `field` for a private or secret key, a key type JWS does not use, or a weak RSA key.
 */
export function importPublicKey(value: unknown, field: string): VerificationKey {
  if (typeof value === 'string') {
    if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(value)) {
      fail(field, 'is a private key: give only its public half')
    }
    let keyObject: KeyObject
    try {
      keyObject = value.includes('-----BEGIN CERTIFICATE-----')
        ? new X509Certificate(value).publicKey
        : createPublicKey(value)
    } catch {
      return fail(field, 'is not a PEM public key (SPKI or PKCS#1) or X.509 certificate')
    }
    return fromKeyObject(keyObject, field)
  }
  if (value instanceof KeyObject) return fromKeyObject(value, field)
  if (value instanceof X509Certificate) return fromKeyObject(value.publicKey, field)
  if (isObject(value)) return fromJwk(value, field)
  return fail(field, REJECTIONS.not_an_object)
}

/** The algorithms a key can verify: the default allowlist of a `publicKey` issuer. */
export function algorithmsFor(key: VerificationKey): Algorithm[] {
  return SUPPORTED_ALGORITHMS.filter((alg) => !isHmac(alg) && keyFits(key, alg))
}
