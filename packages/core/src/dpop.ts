/**
 * DPoP (RFC 9449): a token bound to a client key (`cnf.jkt`) is accepted only with a proof, signed
 * by that key, for this very request. Every check of RFC 9449 s4.3 is made here, in its order, and
 * the proof's `jti` is claimed in the replay store only after all of them passed, so that a proof
 * that fails a check cannot burn a `jti`. Server nonces (s8, s9) need no shared state: an HMAC of
 * a time step under a secret that every instance shares.
 */
import {
  createHash,
  createHmac,
  createSecretKey,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto'
import { keyFits, verifySignature, type Algorithm } from './algorithms.js'
import { importJwk, MIN_SECRET_BYTES, type VerificationKey } from './jwk.js'
import type { ErrorFactory } from './errors.js'
import type { RequestContext } from './log.js'
import { checkOptionNames, fail } from './options.js'
import type { Principal } from './principal.js'
import { createMemoryReplayStore, isSynchronousStore, type ReplayStore } from './replay.js'
import { isStoreUnavailable } from './store.js'
import { BoundedLru } from './token-cache.js'
import { decodeToken, isObject, type JsonObject } from './token.js'

/**
 * An algorithm a DPoP proof may be signed with: asymmetric only (RFC 9449 s4.3 check 5), never
 * `none` nor HMAC. `Ed25519` is the fully-specified name of RFC 9864 that oauth4webapi uses.
 */
export type DpopAlgorithm = Exclude<Algorithm, 'HS256' | 'HS384' | 'HS512'> | 'Ed25519'

/** Every algorithm a DPoP proof can be verified with. */
export const DPOP_ALGORITHMS: readonly DpopAlgorithm[] = Object.freeze([
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
])

/** Stateless server nonces (RFC 9449 s9). */
export interface DpopNonceOptions {
  /** HMAC secret shared by every instance, at least 32 bytes. */
  secret: string | Uint8Array
  /**
   * `true` (default): a proof without a valid nonce gets `use_dpop_nonce`. `false`: a proof
   * without a nonce passes, and one with an invalid or expired nonce gets `use_dpop_nonce`.
   */
  required?: boolean
}

/** `VerifierOptions.dpop`: DPoP-bound tokens (RFC 9449). */
export interface DpopOptions {
  /** Refuse plain bearer tokens: every request needs a DPoP-bound token and proof. Default `false`. */
  required?: boolean
  /** Proof algorithms accepted. Default: {@link DPOP_ALGORITHMS}. */
  algorithms?: readonly DpopAlgorithm[]
  /**
   * Where proof `jti`s are claimed. Default: a memory store of this process
   * (`createMemoryReplayStore()`); share one (`@trustgate/redis`) between instances, or a proof
   * can be replayed once on every instance.
   */
  replayStore?: ReplayStore
  /** Server nonces; off by default. */
  nonce?: DpopNonceOptions
  /**
   * Seconds a proof is accepted after its `iat`, besides `clockTolerance`. Default 60. The replay
   * store keeps a `jti` for as long.
   */
  maxProofAge?: number
  /** Longest proof accepted, in characters. Default 8192. */
  maxProofLength?: number
}

/** Seconds a proof is accepted after its `iat` (besides the clock tolerance), by default. */
export const DPOP_MAX_PROOF_AGE_S = 60
/** Longest proof accepted, by default: an RSA-4096 proof is about 2500 characters. */
export const DPOP_MAX_PROOF_LENGTH = 8192
/** Longest `jti` accepted: 96 random bits (RFC 9449 s11.1) need 16 characters. */
export const DPOP_MAX_JTI_LENGTH = 256
/** Proof keys kept imported, by RFC 7638 thumbprint. */
export const DPOP_KEY_CACHE_MAX = 1000
/** Seconds of one nonce time step. A nonce is accepted in its step and the steps either side. */
export const DPOP_NONCE_STEP_S = 60

// A jti is kept for this much longer than its proof is acceptable: the store's clock and the
// wall clock that `iat` is checked against may drift apart a little.
const REPLAY_MARGIN_MS = 1000
// RFC 7517 s9.2, RFC 7518 s6.2.2, s6.3.2, s6.4.1: members that only a private or symmetric JWK has.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const
const NONCE = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{43})$/
// RFC 3986 s2.3: percent-encoded unreserved characters are decoded by normalisation (s6.2.2.2).
const UNRESERVED = /^[A-Za-z0-9\-._~]$/

/** Validated DPoP options, bound to one verifier's errors. */
export interface Dpop {
  readonly required: boolean
  readonly algorithms: readonly DpopAlgorithm[]
  /** The replay store answers at once: a request needs no promise for its claim. */
  readonly synchronous: boolean
  /**
   * STEP 8 for the `jkt` binding, on every request, cached tokens included. Throws an
   * `AuthError`; returns a promise only when the replay store is asynchronous.
   */
  check(
    principal: Principal,
    token: string,
    scheme: 'bearer' | 'dpop',
    context: RequestContext | undefined,
    nowMs: number,
  ): void | Promise<void>
}

const DPOP_OPTION_NAMES: ReadonlySet<string> = new Set([
  'required',
  'algorithms',
  'replayStore',
  'nonce',
  'maxProofAge',
  'maxProofLength',
] satisfies (keyof DpopOptions)[])

/** `VerifierOptions.dpop`, validated. */
export interface DpopConfig {
  readonly required: boolean
  readonly algorithms: readonly DpopAlgorithm[]
  readonly replayStore: ReplayStore
  readonly nonce: { readonly key: KeyObject; readonly required: boolean } | undefined
  readonly maxProofAge: number
  readonly maxProofLength: number
}

/** Validates `VerifierOptions.dpop` once, at start-up; throws a TypeError naming the field. */
export function resolveDpopOptions(options: unknown): DpopConfig {
  if (!isObject(options)) fail('dpop', 'must be an object')
  checkOptionNames(options, DPOP_OPTION_NAMES, 'dpop')
  const { required = false, algorithms = DPOP_ALGORITHMS, replayStore, nonce } = options
  if (typeof required !== 'boolean') fail('dpop.required', 'must be a boolean')
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    fail('dpop.algorithms', 'must be a non-empty array')
  }
  for (const [i, alg] of (algorithms as unknown[]).entries()) {
    if (typeof alg !== 'string' || !(DPOP_ALGORITHMS as readonly string[]).includes(alg)) {
      fail(
        `dpop.algorithms[${String(i)}]`,
        'must be an asymmetric algorithm (RFC 9449 s4.3): never none nor HS256/384/512',
      )
    }
  }
  if (
    replayStore !== undefined &&
    !(isObject(replayStore) && typeof replayStore.claim === 'function')
  ) {
    fail('dpop.replayStore', 'must be a ReplayStore: { claim(key, ttlMs) }')
  }
  let resolvedNonce: { key: KeyObject; required: boolean } | undefined
  if (nonce !== undefined) {
    if (!isObject(nonce)) fail('dpop.nonce', 'must be an object: { secret, required? }')
    checkOptionNames(nonce, ['secret', 'required'], 'dpop.nonce')
    const { secret, required: nonceRequired = true } = nonce
    const bytes =
      typeof secret === 'string'
        ? Buffer.from(secret, 'utf8')
        : secret instanceof Uint8Array
          ? secret
          : fail('dpop.nonce.secret', 'is required: a string or a Uint8Array')
    if (bytes.byteLength < MIN_SECRET_BYTES) {
      fail('dpop.nonce.secret', `must be at least ${String(MIN_SECRET_BYTES)} bytes`)
    }
    if (typeof nonceRequired !== 'boolean') fail('dpop.nonce.required', 'must be a boolean')
    resolvedNonce = { key: createSecretKey(bytes), required: nonceRequired }
  }
  const maxProofAge = options.maxProofAge ?? DPOP_MAX_PROOF_AGE_S
  if (typeof maxProofAge !== 'number' || !Number.isFinite(maxProofAge) || maxProofAge <= 0) {
    fail('dpop.maxProofAge', 'must be a finite number of seconds > 0')
  }
  const maxProofLength = options.maxProofLength ?? DPOP_MAX_PROOF_LENGTH
  if (typeof maxProofLength !== 'number' || !Number.isSafeInteger(maxProofLength)) {
    fail('dpop.maxProofLength', 'must be an integer >= 1')
  }
  if (maxProofLength < 1) fail('dpop.maxProofLength', 'must be an integer >= 1')
  return {
    required,
    algorithms: Object.freeze([...(algorithms as DpopAlgorithm[])]),
    replayStore: (replayStore as ReplayStore | undefined) ?? createMemoryReplayStore(),
    nonce: resolvedNonce,
    maxProofAge,
    maxProofLength,
  }
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}

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
  return sha256(JSON.stringify(members))
}

/**
 * RFC 9449 s4.3 check 9: `htu` without query and fragment, normalised as RFC 3986 s6.2.2 and
 * s6.2.3 say (scheme and host lower-cased, default port and dot segments removed, percent-encoding
 * upper-cased, unreserved characters decoded). `undefined` for anything that is not an absolute
 * http(s) URL.
 */
export function normalizeHtu(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
  if (url.username !== '' || url.password !== '') return undefined
  const path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16))
    return UNRESERVED.test(char) ? char : escape.toUpperCase()
  })
  return `${url.protocol}//${url.host}${path}`
}

/**
 * The public origin of an API, as configured: `scheme://host[:port]`, nothing else. `undefined`
 * for a value with a path, query, fragment or credentials: an origin must never carry a path into
 * the URL that `htu` is compared with.
 */
export function checkOrigin(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.includes('?') || value.includes('#')) return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
  if (url.username !== '' || url.password !== '' || url.pathname !== '/') return undefined
  return url.origin
}

/**
 * The URL of a request, for `htu`: the configured public `origin` and the path of the request
 * line (`req.url`), never a `Host` or forwarded header. `undefined` when the origin is not a bare
 * origin (see {@link checkOrigin}) or the request target is not in origin form (`/path?query`).
 */
export function requestUrl(origin: unknown, target: unknown): string | undefined {
  const base = checkOrigin(origin)
  if (base === undefined || typeof target !== 'string' || !target.startsWith('/')) return undefined
  // The target starts with `/`, so it is all path and query: it cannot change the host.
  return base + target
}

/**
 * Checks an adapter's `origin` option at start-up: a bare origin or a function, and required when
 * DPoP is on (proofs name the URL they are for, and the `Host` header must not decide it).
 */
export function checkOriginOption(origin: unknown, dpop: boolean): void {
  if (origin === undefined) {
    if (dpop) fail('origin', 'is required with dpop: the public origin DPoP proofs are made for')
  } else if (typeof origin !== 'function' && checkOrigin(origin) === undefined) {
    fail('origin', 'must be an origin (https://api.example.com) or a function returning one')
  }
}

/** The values of every `DPoP` header in Node's `rawHeaders` list (a second one must be seen). */
export function dpopValues(rawHeaders: readonly string[]): string[] {
  const values: string[] = []
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]
    if (name !== undefined && name.length === 4 && name.toLowerCase() === 'dpop') {
      values.push(rawHeaders[i + 1] ?? '')
    }
  }
  return values
}

/**
 * Builds the DPoP checks of one verifier. `clockTolerance` is the verifier's, in seconds; `errors`
 * offer the DPoP challenge.
 */
export function createDpop(config: DpopConfig, clockTolerance: number, errors: ErrorFactory): Dpop {
  const { required, algorithms, replayStore, nonce, maxProofAge, maxProofLength } = config
  const allowed: ReadonlySet<string> = new Set(algorithms)
  // Imported proof keys by thumbprint, bounded by count alone: a key's size is bounded by the
  // proof length cap.
  const keys = new BoundedLru<VerificationKey>({
    max: DPOP_KEY_CACHE_MAX,
    maxBytes: Number.POSITIVE_INFINITY,
    maxEntryBytes: Number.POSITIVE_INFINITY,
    heavyEntryBytes: Number.POSITIVE_INFINITY,
  })

  // The nonce of the current step is computed once per step, not per request.
  let nonceStep = Number.NaN
  let currentNonce = ''
  function nonceOf(step: number): string {
    if (nonce === undefined) return ''
    const mac = createHmac('sha256', nonce.key)
      .update(`trustgate dpop nonce ${String(step)}`)
      .digest('base64url')
    return `${step.toString(36)}.${mac}`
  }
  function nonceNow(nowMs: number): string {
    const step = Math.floor(nowMs / 1000 / DPOP_NONCE_STEP_S)
    if (step !== nonceStep) {
      nonceStep = step
      currentNonce = nonceOf(step)
    }
    return currentNonce
  }
  function nonceValid(value: string, nowMs: number): boolean {
    const current = nonceNow(nowMs)
    if (value === current) return true
    const match = NONCE.exec(value)
    if (match === null) return false
    const step = parseInt(match[1] as string, 36)
    // The previous step, or the next one (another instance's clock may be a little ahead).
    if (Math.abs(step - nonceStep) !== 1) return false
    return timingSafeEqual(Buffer.from(nonceOf(step)), Buffer.from(value))
  }

  function proofKey(jwk: JsonObject, thumbprint: string): VerificationKey | undefined {
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

  function fits(key: VerificationKey, alg: DpopAlgorithm): boolean {
    return alg === 'Ed25519' ? key.family === 'OKP' && key.curve === 'Ed25519' : keyFits(key, alg)
  }

  /** RFC 9449 s4.3, then s7.1 (`ath`, `cnf.jkt`), s9 (nonce) and s11.1 (replay). */
  function checkProof(
    token: string,
    jkt: string,
    context: RequestContext | undefined,
    nowMs: number,
  ): void | Promise<void> {
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
    // 6. A public key: a private member means the client has published its key.
    if (!isObject(jwk)) throw errors.invalidDpopProof('proof_key_invalid')
    for (const member of PRIVATE_MEMBERS) {
      if (Object.hasOwn(jwk, member)) throw errors.invalidDpopProof('proof_private_key')
    }
    const thumbprint = jwkThumbprint(jwk)
    const key = thumbprint === undefined ? undefined : proofKey(jwk, thumbprint)
    if (thumbprint === undefined || key === undefined || !fits(key, alg as DpopAlgorithm)) {
      throw errors.invalidDpopProof('proof_key_invalid')
    }
    // 7. The signature, with the key of the proof itself.
    const verifyAlg: Algorithm = alg === 'Ed25519' ? 'EdDSA' : (alg as Algorithm)
    if (!verifySignature(verifyAlg, key, decoded.signingInput, decoded.signature)) {
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
    if (typeof ath !== 'string' || ath !== sha256(token)) {
      throw errors.invalidDpopProof('proof_ath_mismatch')
    }
    if (thumbprint !== jkt) throw errors.invalidDpopProof('proof_key_mismatch')
    // s9: a server nonce, when configured.
    if (nonce !== undefined) {
      const sent = payload.nonce
      if (sent === undefined) {
        if (nonce.required) throw errors.useDpopNonce('nonce_required', nonceNow(nowMs))
      } else if (typeof sent !== 'string' || !nonceValid(sent, nowMs)) {
        throw errors.useDpopNonce('nonce_stale', nonceNow(nowMs))
      }
    }
    // s11.1: the jti, claimed last. Keyed by the proof key too: nobody can burn another key's
    // jti, since a proof under that key needs its private half. Kept as long as the proof could
    // still pass the iat check above, counted from its iat, not from now.
    const replayKey = `dpop:${sha256(`${thumbprint}.${jti}`)}`
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

  return Object.freeze({
    required,
    algorithms,
    synchronous: isSynchronousStore(replayStore),
    check(principal, token, scheme, context, nowMs) {
      const jkt = boundKey(principal, errors)
      if (scheme === 'dpop') {
        // RFC 9449 s7.1: the DPoP scheme is for DPoP-bound tokens.
        if (jkt === undefined) throw errors.invalidToken('not_dpop_bound')
        return checkProof(token, jkt, context, nowMs)
      }
      // No downgrade: a bound token sent as a bearer token proves nothing.
      if (jkt !== undefined) throw errors.invalidToken('dpop_bound_token')
      if (required) throw errors.invalidToken('dpop_required')
      return undefined
    },
  } satisfies Dpop)
}

/**
 * The key a token is bound to (`cnf.jkt`), or `undefined`. A `cnf` that is not an object, or a
 * `jkt` that is not a string, is a malformed claim, never "no binding".
 */
function boundKey(principal: Principal, errors: ErrorFactory): string | undefined {
  const { cnf } = principal.claims
  if (cnf === undefined) return undefined
  if (!isObject(cnf) || (cnf.jkt !== undefined && typeof cnf.jkt !== 'string')) {
    throw errors.invalidToken('invalid_claim')
  }
  return cnf.jkt
}

/**
 * STEP 8 for the `jkt` binding in a verifier without DPoP: a token bound to a key is refused all
 * the same, since no proof can be checked (no downgrade to a bearer token, RFC 9449 s7.1).
 */
export function refuseKeyBinding(principal: Principal, errors: ErrorFactory): void {
  if (boundKey(principal, errors) !== undefined) throw errors.invalidToken('dpop_bound_token')
}
