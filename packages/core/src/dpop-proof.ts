/**
 * The checks of one DPoP proof (RFC 9449 s4.3), in the RFC's order, then the token's binding (s7.1:
 * `ath`, `cnf.jkt`), the server nonce (s9) and the replay claim (s11.1). The proof's `jti` is
 * claimed in the replay store only after every other check passed, so that a proof that fails a
 * check cannot burn a `jti`.
 */
import { hash } from 'node:crypto'
import type { Algorithm } from './algorithms.js'
import { verifyDecoded } from './signed-bytes.js'
import { createProofKeyReader } from './dpop-key.js'
import { createDpopNonces } from './dpop-nonce.js'
import type { DpopAlgorithm, DpopConfig } from './dpop-options.js'
import type { ErrorFactory } from './errors.js'
import { normalizeHtu } from './htu.js'
import type { RequestContext } from './log.js'
import { isStoreUnavailable } from './store.js'
import { decodeToken } from './token.js'

/** Longest `jti` accepted: 96 random bits (RFC 9449 s11.1) need 16 characters. */
export const DPOP_MAX_JTI_LENGTH = 256

// A jti is kept for this much longer than its proof is acceptable: the store's clock and the
// wall clock that `iat` is checked against may drift apart a little.
const REPLAY_MARGIN_MS = 1000

/**
 * Checks the proof of `context` for `token`, bound to the key of thumbprint `jkt`. Throws an
 * `AuthError`; returns a promise only when the replay store is asynchronous.
 */
export type ProofCheck = (
  token: string,
  jkt: string,
  context: RequestContext | undefined,
  nowMs: number,
) => void | Promise<void>

/**
 * Builds the proof check of one verifier. `clockTolerance` is the verifier's, in seconds; `errors`
 * offer the DPoP challenge.
 */
export function createProofCheck(
  config: DpopConfig,
  clockTolerance: number,
  errors: ErrorFactory,
): ProofCheck {
  const { algorithms, replayStore, nonce, maxProofAge, maxProofLength } = config
  const allowed: ReadonlySet<string> = new Set(algorithms)
  const readKey = createProofKeyReader()
  const nonces = nonce === undefined ? undefined : createDpopNonces(nonce)

  return function checkProof(token, jkt, context, nowMs) {
    // 1. Exactly one DPoP header: with two, which one a proxy or the app reads is a guess.
    const values = context?.dpop
    if (values === undefined || values.length === 0) throw errors.invalidDpopProof('missing_proof')
    if (values.length > 1) throw errors.invalidDpopProof('multiple_proofs')
    const proof = values[0] as string
    // The length cap comes before any decoding work.
    if (proof.length > maxProofLength) throw errors.invalidDpopProof('proof_too_long')
    // 2, 3. A well-formed JWT.
    const decoded = decodeToken(proof, maxProofLength)
    if (decoded === undefined) throw errors.invalidDpopProof('malformed_proof')
    const { header, payload } = decoded
    // We understand no header extension (RFC 7515 s4.1.11).
    if (header.crit !== undefined) throw errors.invalidDpopProof('malformed_proof')
    // 4. typ, compared as a media type (RFC 7515 s4.1.9).
    const { typ, alg, jwk } = header
    if (typeof typ !== 'string' || !/^(application\/)?dpop\+jwt$/i.test(typ)) {
      throw errors.invalidDpopProof('proof_typ_mismatch')
    }
    // 5. An asymmetric algorithm on the allowlist: never `none`, never HMAC.
    if (typeof alg !== 'string' || !allowed.has(alg)) {
      throw errors.invalidDpopProof('proof_alg_not_allowed')
    }
    // 6. A public key that fits the algorithm.
    const proofKey = readKey(jwk, alg as DpopAlgorithm)
    if (typeof proofKey === 'string') throw errors.invalidDpopProof(proofKey)
    const { thumbprint, key } = proofKey
    // 7. The signature, with the key of the proof itself.
    const verifyAlg: Algorithm = alg === 'Ed25519' ? 'EdDSA' : (alg as Algorithm)
    if (!verifyDecoded(verifyAlg, key, decoded)) {
      throw errors.invalidDpopProof('proof_bad_signature')
    }
    // 8. The claims of s4.2.
    const { jti, htm, htu, iat, ath } = payload
    if (typeof jti !== 'string' || jti === '' || jti.length > DPOP_MAX_JTI_LENGTH) {
      throw errors.invalidDpopProof('proof_jti_invalid')
    }
    if (typeof iat !== 'number' || !Number.isFinite(iat)) {
      throw errors.invalidDpopProof('malformed_proof')
    }
    // 9. htm: methods are case-sensitive (RFC 9110 s9.1).
    if (typeof htm !== 'string' || htm !== context?.method) {
      throw errors.invalidDpopProof('proof_htm_mismatch')
    }
    // 10. htu, against the URL the adapter built from the configured origin.
    const expected = normalizeHtu(context.url)
    if (expected === undefined || normalizeHtu(htu) !== expected) {
      throw errors.invalidDpopProof('proof_htu_mismatch')
    }
    // 11. iat within the window; the tolerance applies both ways.
    const now = nowMs / 1000
    if (iat > now + clockTolerance) throw errors.invalidDpopProof('proof_in_future')
    if (iat < now - maxProofAge - clockTolerance) throw errors.invalidDpopProof('proof_stale')
    // s7.1: ath, the hash of this very token, and the key the token is bound to.
    if (typeof ath !== 'string' || ath !== hash('sha256', token, 'base64url')) {
      throw errors.invalidDpopProof('proof_ath_mismatch')
    }
    if (thumbprint !== jkt) throw errors.invalidDpopProof('proof_key_mismatch')
    // s9: a server nonce, when configured.
    if (nonces !== undefined) {
      const sent = payload.nonce
      if (sent === undefined) {
        if (nonces.required) throw errors.useDpopNonce('nonce_required', nonces.current(nowMs))
      } else if (typeof sent !== 'string' || !nonces.isValid(sent, nowMs)) {
        throw errors.useDpopNonce('nonce_stale', nonces.current(nowMs))
      }
    }
    // s11.1: the jti, claimed last. Keyed by the proof key too: nobody can burn another key's
    // jti, since a proof under that key needs its private half. Kept as long as the proof could
    // still pass the iat check above, counted from its iat, not from now.
    const replayKey = `dpop:${hash('sha256', `${thumbprint}.${jti}`, 'base64url')}`
    const ttlMs = Math.ceil((iat + maxProofAge + clockTolerance) * 1000 - nowMs) + REPLAY_MARGIN_MS
    // A store that cannot answer (StoreUnavailableError) refuses the request with a 503; any
    // other failure of the store stays a 500. Never a pass.
    const unavailable = (error: unknown): never => {
      throw isStoreUnavailable(error) ? errors.storeUnavailable('replay_unavailable') : error
    }
    let claimed: boolean | Promise<boolean>
    try {
      claimed = replayStore.claim(replayKey, ttlMs)
    } catch (error) {
      return unavailable(error)
    }
    if (claimed instanceof Promise) {
      return claimed.then((first) => {
        if (!first) throw errors.invalidDpopProof('proof_replayed')
      }, unavailable)
    }
    if (!claimed) throw errors.invalidDpopProof('proof_replayed')
    return undefined
  }
}
