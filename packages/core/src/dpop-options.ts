/**
 * `VerifierOptions.dpop` (RFC 9449): the option types, their defaults, and their validation once at
 * start-up, so that a request never meets a half-valid setting (a TypeError names the field).
 */
import { createSecretKey, type KeyObject } from 'node:crypto'
import type { Algorithm } from './algorithms.js'
import { MIN_SECRET_BYTES } from './jwk.js'
import { checkOptionNames, fail } from './options.js'
import { createMemoryReplayStore, type ReplayStore } from './replay.js'
import { isObject } from './token.js'

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
  const resolvedNonce = nonce === undefined ? undefined : resolveNonce(nonce)
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

// `dpop.nonce`: the HMAC key of the stateless nonces (dpop-nonce.ts), from a long enough secret.
function resolveNonce(nonce: unknown): { key: KeyObject; required: boolean } {
  if (!isObject(nonce)) fail('dpop.nonce', 'must be an object: { secret, required? }')
  checkOptionNames(nonce, ['secret', 'required'], 'dpop.nonce')
  const { secret, required = true } = nonce
  const bytes =
    typeof secret === 'string'
      ? Buffer.from(secret, 'utf8')
      : secret instanceof Uint8Array
        ? secret
        : fail('dpop.nonce.secret', 'is required: a string or a Uint8Array')
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    fail('dpop.nonce.secret', `must be at least ${String(MIN_SECRET_BYTES)} bytes`)
  }
  if (typeof required !== 'boolean') fail('dpop.nonce.required', 'must be a boolean')
  return { key: createSecretKey(bytes), required }
}
