/**
 * The public key of a DPoP proof (RFC 9449 s4.3 check 6): refused if it carries a private member,
 * named by its RFC 7638 thumbprint (what `cnf.jkt` holds), and imported once per thumbprint into a
 * bounded cache, since a client signs every proof with the same key.
 */
import { hash } from 'node:crypto'
import { keyFits } from './algorithms.js'
import { importJwk, type VerificationKey } from './jwk.js'
import type { DpopAlgorithm } from './dpop-options.js'
import { BoundedLru } from './token-cache.js'
import { isObject, type JsonObject } from './token.js'

/** Proof keys kept imported, by RFC 7638 thumbprint. */
export const DPOP_KEY_CACHE_MAX = 1000

// RFC 7517 s9.2, RFC 7518 s6.2.2, s6.3.2, s6.4.1: members that only a private or symmetric JWK has.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

/**
 * RFC 7638 s3: the SHA-256 thumbprint of a public JWK, over its required members only, in
 * lexicographic order, without whitespace. `undefined` for a key type DPoP cannot use.
 */
export function jwkThumbprint(jwk: JsonObject): string | undefined {
  const { kty, crv, x, y, n, e } = jwk
  let members: Record<string, unknown>
  if (kty === 'EC') members = { crv, kty, x, y }
  else if (kty === 'OKP') members = { crv, kty, x }
  else if (kty === 'RSA') members = { e, kty, n }
  else return undefined
  for (const value of Object.values(members)) if (typeof value !== 'string') return undefined
  return hash('sha256', JSON.stringify(members), 'base64url')
}

/** A proof's key, imported, with its thumbprint. */
export interface ProofKey {
  readonly thumbprint: string
  readonly key: VerificationKey
}

/**
 * Reads the `jwk` header of a proof signed with `alg`: the key, or the reason it is refused.
 * One per verifier: it keeps the imported keys.
 */
export type ProofKeyReader = (
  jwk: unknown,
  alg: DpopAlgorithm,
) => ProofKey | 'proof_key_invalid' | 'proof_private_key'

/** A {@link ProofKeyReader} with its own cache of {@link DPOP_KEY_CACHE_MAX} keys. */
export function createProofKeyReader(): ProofKeyReader {
  // Bounded by count alone: a key's size is bounded by the proof length cap.
  const keys = new BoundedLru<VerificationKey>({
    max: DPOP_KEY_CACHE_MAX,
    maxBytes: Number.POSITIVE_INFINITY,
    maxEntryBytes: Number.POSITIVE_INFINITY,
    heavyEntryBytes: Number.POSITIVE_INFINITY,
  })

  function importKey(jwk: JsonObject, thumbprint: string): VerificationKey | undefined {
    let key = keys.get(thumbprint)
    if (key === undefined) {
      // Only the members the thumbprint covers: a cached key is then exactly the key of its
      // thumbprint, whatever `alg`, `use` or `kid` another proof's JWK adds.
      const { kty, crv, x, y, n, e } = jwk
      const imported = importJwk(kty === 'RSA' ? { kty, n, e } : { kty, crv, x, y })
      if (typeof imported === 'string') return undefined
      key = imported
      keys.set(thumbprint, key)
    }
    return key
  }

  return (jwk, alg) => {
    if (!isObject(jwk)) return 'proof_key_invalid'
    // A private member means the client has published its key.
    for (const member of PRIVATE_MEMBERS) if (Object.hasOwn(jwk, member)) return 'proof_private_key'
    const thumbprint = jwkThumbprint(jwk)
    const key = thumbprint === undefined ? undefined : importKey(jwk, thumbprint)
    if (thumbprint === undefined || key === undefined || !fits(key, alg)) return 'proof_key_invalid'
    return { thumbprint, key }
  }
}

// `Ed25519` (RFC 9864) is EdDSA on that one curve; every other name is a JWS algorithm.
function fits(key: VerificationKey, alg: DpopAlgorithm): boolean {
  return alg === 'Ed25519' ? key.family === 'OKP' && key.curve === 'Ed25519' : keyFits(key, alg)
}
