/**
 * Keys and tokens for the benchmarks, made with node:crypto so that minting thousands of tokens
 * is quick. Every token is a real, valid JWT for the issuer and audience below.
 */
import {
  constants,
  createHmac,
  generateKeyPairSync,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto'

export const ISSUER = 'https://issuer.bench.test'
export const AUDIENCE = 'https://api.bench.test'
export const SECRET = randomBytes(32)

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')

const SIGNERS = {
  RS256: { type: 'rsa', options: { modulusLength: 2048 }, hash: 'sha256' },
  PS256: { type: 'rsa', options: { modulusLength: 2048 }, hash: 'sha256', pss: true },
  ES256: { type: 'ec', options: { namedCurve: 'P-256' }, hash: 'sha256', p1363: true },
  EdDSA: { type: 'ed25519', options: {}, hash: null },
}

/** A key pair for `alg` (not HS256), with its public JWK carrying `kid`, `alg` and `use`. */
export function createKey(alg, kid = `${alg.toLowerCase()}-bench`) {
  const spec = SIGNERS[alg]
  const { privateKey, publicKey } = generateKeyPairSync(spec.type, spec.options)
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' }
  return {
    alg,
    kid,
    privateKey,
    publicKey,
    jwk,
    pem: publicKey.export({ format: 'pem', type: 'spki' }),
  }
}

/** Signs a compact JWS with node:crypto. `key` is a key from {@link createKey}, or the secret for HS256. */
export function signToken(alg, key, payload, kid = key?.kid) {
  const header = kid === undefined ? { alg, typ: 'JWT' } : { alg, typ: 'JWT', kid }
  const input = `${b64(header)}.${b64(payload)}`
  let signature
  if (alg === 'HS256') {
    signature = createHmac('sha256', key).update(input).digest()
  } else {
    const spec = SIGNERS[alg]
    signature = sign(
      spec.hash,
      Buffer.from(input),
      spec.pss
        ? { key: key.privateKey, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 }
        : spec.p1363
          ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' }
          : key.privateKey,
    )
  }
  return `${input}.${signature.toString('base64url')}`
}

// The floor's crypto.verify arguments per algorithm, as the signer above makes them.
const FLOOR_ARGS = {
  RS256: (key) => ['sha256', { key, padding: constants.RSA_PKCS1_PADDING }],
  PS256: (key) => [
    'sha256',
    { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
  ],
  ES256: (key) => ['sha256', { key, dsaEncoding: 'ieee-p1363' }],
  EdDSA: (key) => [null, key],
}

/**
 * The floor's check for `alg`: Node's synchronous crypto alone, on bytes already split and decoded
 * (`crypto.verify` on the KeyObject of `key`; `createHmac` + `timingSafeEqual` with SECRET for HS256).
 */
export function floorCheck(alg, key) {
  if (alg === 'HS256') {
    return (data, sig) => timingSafeEqual(createHmac('sha256', SECRET).update(data).digest(), sig)
  }
  const [hash, keyArg] = FLOOR_ARGS[alg](key.publicKey)
  return (data, sig) => verify(hash, data, keyArg, sig)
}

/** Each token as [signing input bytes, signature bytes], split and decoded once, for the floor. */
export function splitTokens(tokens) {
  return tokens.map((token) => {
    const dot = token.lastIndexOf('.')
    return [Buffer.from(token.slice(0, dot)), Buffer.from(token.slice(dot + 1), 'base64url')]
  })
}

/** Claims of a valid token, distinct per `n`, valid for an hour. */
export function claims(n, extra = {}) {
  const now = Math.floor(Date.now() / 1000)
  return {
    iss: ISSUER,
    sub: `user-${n}`,
    aud: AUDIENCE,
    iat: now,
    exp: now + 3600,
    scope: 'orders:read orders:write',
    jti: `bench-${n}`,
    ...extra,
  }
}

/**
 * Claims of a valid token shaped like an Auth0 access token for an API (a user's token through a
 * SPA, with RBAC permissions and a namespaced roles claim): 12 claims, an array `aud` (the API and
 * the issuer's userinfo), a `scope` string, `azp`, `jti`. About 900 characters signed with RS256,
 * where {@link claims} gives about 630: the size of most tokens in production.
 */
export function realisticClaims(n, extra = {}) {
  const now = Math.floor(Date.now() / 1000)
  return {
    'https://bench.test/roles': ['admin'],
    iss: ISSUER,
    sub: `auth0|65f1c0de${String(n).padStart(8, '0')}`,
    aud: [AUDIENCE, `${ISSUER}/userinfo`],
    iat: now,
    exp: now + 86400,
    scope: 'openid profile orders:read',
    azp: 'x7Kp2QmZr9TtVbN4',
    jti: `5c1e9b${String(n).padStart(8, '0')}`,
    org_id: 'org_9aBcD3',
    permissions: ['orders:read'],
    auth_time: now - 60,
    ...extra,
  }
}

/** Median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * The median of the round-by-round ratios `a[i] / b[i]`: two contenders measured in the same
 * rounds, compared round by round, so that the machine's drift between rounds cancels out.
 */
export function pairedRatio(a, b) {
  return median(a.map((value, i) => value / b[i]))
}

/** A silent pino-compatible logger: benchmarks measure verification, not log writing. */
export const silentLogger = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  trace() {},
  fatal() {},
  child() {
    return silentLogger
  },
  level: 'silent',
}
