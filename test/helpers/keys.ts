/**
 * Real keys and real tokens for tests, made with jose. Nothing here is a fixture on disk: each
 * test run mints its own.
 */
import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose'
import type { KeyObject } from 'node:crypto'

export type AsymmetricAlg =
  'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA'

/**
 * Every asymmetric JWS algorithm, written out rather than taken from the code under test, so that
 * a test corpus built from it still covers an algorithm the code might drop.
 */
export const ASYMMETRIC_ALGS: readonly AsymmetricAlg[] = [
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
]

/** A signing key pair with its public JWK (with `kid`, `alg`, `use`). */
export interface TestKey {
  readonly alg: AsymmetricAlg
  readonly kid: string
  readonly privateKey: CryptoKey | KeyObject
  readonly publicKey: CryptoKey | KeyObject
  readonly jwk: JWK
}

let counter = 0

/** Generates a key pair for `alg`. `jwkAlg: false` leaves `alg` out of the JWK. */
export async function createKey(
  alg: AsymmetricAlg,
  options: { kid?: string; modulusLength?: number; jwkAlg?: boolean; crv?: string } = {},
): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(options.modulusLength === undefined ? {} : { modulusLength: options.modulusLength }),
    ...(options.crv === undefined ? {} : { crv: options.crv }),
  })
  const kid = options.kid ?? `${alg.toLowerCase()}-${String(++counter)}`
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, use: 'sig' }
  if (options.jwkAlg !== false) jwk.alg = alg
  return { alg, kid, privateKey, publicKey, jwk }
}

/** A JWK Set document of the given keys' public halves. */
export function jwks(...keys: readonly TestKey[]): { keys: JWK[] } {
  return { keys: keys.map((key) => key.jwk) }
}

/** A copy without the members set to `undefined`: that is how a test leaves a claim out. */
function defined(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined))
}

/** Seconds since the epoch, as claims use. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

export interface SignOptions {
  /** Header parameters to add or override (`kid`, `typ`, `jku`, `crit`...). `kid: undefined` drops it. */
  header?: Record<string, unknown>
  /** Override the header `alg` (the signing still uses the key's alg unless `signAlg` is set). */
  signAlg?: string
}

/**
 * Signs `payload` with `key`. Defaults: `iat` now, `exp` in an hour; pass `exp: undefined` to
 * leave it out. The header carries the key's `alg` and `kid` unless overridden.
 */
export async function sign(
  key: TestKey,
  payload: JWTPayload & Record<string, unknown>,
  options: SignOptions = {},
): Promise<string> {
  const now = nowSeconds()
  const claims: Record<string, unknown> = { iat: now, exp: now + 3600, ...payload }
  const header: Record<string, unknown> = {
    alg: options.signAlg ?? key.alg,
    kid: key.kid,
    ...options.header,
  }
  return new SignJWT(defined(claims))
    .setProtectedHeader(defined(header) as { alg: string })
    .sign(key.privateKey)
}

/** Signs with an HMAC secret. */
export async function signHmac(
  secret: string | Uint8Array,
  payload: JWTPayload & Record<string, unknown>,
  options: SignOptions & { alg?: 'HS256' | 'HS384' | 'HS512' } = {},
): Promise<string> {
  const now = nowSeconds()
  const claims: Record<string, unknown> = { iat: now, exp: now + 3600, ...payload }
  const header: Record<string, unknown> = { alg: options.alg ?? 'HS256', ...options.header }
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret
  return new SignJWT(defined(claims))
    .setProtectedHeader(defined(header) as { alg: string })
    .sign(bytes)
}

/** Base64url of a JSON value, to hand-build malformed or unsigned tokens in attack tests. */
export function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}
