/**
 * Property-based tests over everything that reads attacker bytes: the token decoder, the
 * Authorization header parser, the JWK Set parser, the whole verifier, and the Fastify request
 * path. Any input must end in a value or in the module's own error (an `AuthError` with a defined
 * code, a `FetchError` for a key set), never another exception, never a 500.
 *
 * Fixed seed, a few thousand runs in CI. More locally: `FUZZ_RUNS=100000 npx vitest run
 * test/security/fuzz.test.ts`; another seed with `FUZZ_SEED=<n>`.
 */
import fc from 'fast-check'
import { createHmac, KeyObject, sign as cryptoSign } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Fastify, { type FastifyInstance } from 'fastify'
import { jwtAuth } from '@trustgate/fastify'
import { decodeToken } from '../../packages/core/src/token.js'
import { parseBearer } from '../../packages/core/src/bearer.js'
import { parseJwks } from '../../packages/core/src/key-set.js'
import { FetchError } from '../../packages/core/src/fetch.js'
import { AuthError } from '../../packages/core/src/auth-error.js'
import { createErrorFactory } from '../../packages/core/src/errors.js'
import type { AuthErrorCode } from '../../packages/core/src/reasons.js'
import { createVerifier, type Verifier } from '../../packages/core/src/verifier.js'
import { createKey, jwks, nowSeconds, type TestKey } from '../helpers/keys.js'
import { captureLogger } from '../helpers/log.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000)
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_524)
const params = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns,
  seed: SEED,
  endOnFailure: true,
})

const CODES: readonly AuthErrorCode[] = ['invalid_request', 'invalid_token', 'jwks_unavailable']
const STATUS: Readonly<Record<string, number>> = {
  invalid_request: 400,
  invalid_token: 401,
  jwks_unavailable: 503,
}
const errors = createErrorFactory('api')

const STATIC_ISS = 'https://static.test'
const HMAC_ISS = 'https://legacy.test'
const SECRET = 'a fuzzing secret that is long enough for HS256'
const ALGS = [
  'RS256',
  'PS256',
  'ES256',
  'ES512',
  'EdDSA',
  'HS256',
  'HS512',
  'none',
  'None',
  '',
] as const

const b64 = (text: string): string => Buffer.from(text).toString('base64url')
const b64chars = fc.constantFrom(
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split(''),
)
const b64string = fc.string({ unit: b64chars, maxLength: 60 })
/** Strings that look like tokens: base64url-ish parts, dots, and a little noise. */
const tokenish = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.array(b64string, { maxLength: 6 }).map((parts) => parts.join('.')),
  fc
    .tuple(fc.jsonValue(), fc.jsonValue(), fc.uint8Array({ maxLength: 80 }))
    .map(
      ([h, p, s]) =>
        `${b64(JSON.stringify(h) ?? 'null')}.${b64(JSON.stringify(p) ?? 'null')}.${Buffer.from(s).toString('base64url')}`,
    ),
)

function expectAuthError(error: unknown): asserts error is AuthError {
  if (!(error instanceof AuthError)) throw error
  expect(CODES).toContain(error.code)
  expect(error.status).toBe(STATUS[error.code])
  expect(typeof error.reason).toBe('string')
}

describe('decodeToken', () => {
  it('returns a decoded token or undefined for any string, never throwing', () => {
    fc.assert(
      fc.property(tokenish, (token) => {
        const decoded = decodeToken(token, 16384)
        if (decoded === undefined) return
        expect(typeof decoded.header).toBe('object')
        expect(Array.isArray(decoded.header)).toBe(false)
        expect(Array.isArray(decoded.payload)).toBe(false)
        expect(decoded.token).toBe(token)
        expect(token[decoded.signedLength]).toBe('.')
        expect(decoded.signatureBytes).toBe(
          Buffer.from(token.slice(decoded.signedLength + 1), 'base64url').length,
        )
      }),
      params(RUNS),
    )
  })

  // The canonical check is one round trip through Node's encoder (token.ts, issue 15). The
  // reference is the rule it replaced, spelled out: the alphabet, no 4n+1 length, the unused bits
  // of the last character zero. They must agree on every part, two-byte characters included
  // (Node's decoder reads U+0141 as `A`), in each of the three places of a token.
  it('accepts a part exactly when it is canonical base64url: the round trip agrees with the spelled-out rule', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const canonical = (part: string): boolean => {
      if (!/^[A-Za-z0-9_-]+$/.test(part) || part.length % 4 === 1) return false
      const unused = part.length % 4 === 2 ? 0b1111 : part.length % 4 === 3 ? 0b11 : 0
      return (alphabet.indexOf(part.charAt(part.length - 1)) & unused) === 0
    }
    const noisy = fc.constantFrom(...'AQgwBh_-09zZ+/=. ~\u0141\u00c1\u0100\u2d41'.split(''))
    const part = fc.string({ unit: fc.oneof(b64chars, noisy), minLength: 0, maxLength: 24 })
    const header = b64('{"alg":"ES256"}')
    const payload = b64('{"sub":"a"}')
    fc.assert(
      fc.property(part, (candidate) => {
        // As the signature: its bytes are not parsed, so only the spelling decides.
        const asSignature = decodeToken(`${header}.${payload}.${candidate}`, 16384)
        expect(asSignature !== undefined).toBe(canonical(candidate))
        // As the header or the payload, with a JSON object prefixed: `e30` is `{}`.
        const object = `${b64('{"a":1}')}${candidate}`
        if (!canonical(object)) {
          expect(decodeToken(`${object}.${payload}.AAAA`, 16384)).toBeUndefined()
          expect(decodeToken(`${header}.${object}.AAAA`, 16384)).toBeUndefined()
        }
      }),
      params(RUNS),
    )
  })

  it('decodes any three base64url parts of JSON objects to exactly those objects', () => {
    const object = fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), {
      maxKeys: 6,
    })
    fc.assert(
      fc.property(object, object, fc.uint8Array({ minLength: 1, maxLength: 64 }), (h, p, s) => {
        const token = `${b64(JSON.stringify(h))}.${b64(JSON.stringify(p))}.${Buffer.from(s).toString('base64url')}`
        const decoded = decodeToken(token, Number.MAX_SAFE_INTEGER)
        expect(decoded?.header).toEqual(JSON.parse(JSON.stringify(h)))
        expect(decoded?.payload).toEqual(JSON.parse(JSON.stringify(p)))
        expect(decoded?.signatureBytes).toBe(s.length)
        expect(token.slice(0, decoded?.signedLength)).toBe(token.slice(0, token.lastIndexOf('.')))
      }),
      params(RUNS),
    )
  })
})

describe('parseBearer', () => {
  const scheme = fc.constantFrom(
    'Bearer',
    'bearer',
    'BEARER',
    'bEaReR',
    'Basic',
    'Bearer:',
    'Token',
    '',
  )
  const separator = fc.constantFrom(' ', '  ', '\t', '', ' \t ')
  const header = fc.oneof(
    fc.string({ maxLength: 100 }),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc
      .tuple(scheme, separator, fc.oneof(tokenish, b64string))
      .map(([s, sep, t]) => `${s}${sep}${t}`),
  )
  const values = fc.oneof(fc.constant(undefined), header, fc.array(header, { maxLength: 3 }))

  it('returns a b64token taken from the header, null, or an invalid_request AuthError', () => {
    fc.assert(
      fc.property(values, (value) => {
        let token: string | null
        try {
          token = parseBearer(value, errors)
        } catch (error) {
          expectAuthError(error)
          expect(error.code).toBe('invalid_request')
          return
        }
        if (token === null) return
        expect(token).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/)
        const single = Array.isArray(value) ? value[0] : value
        expect(single?.trim().toLowerCase().startsWith('bearer ')).toBe(true)
        expect(single?.trim().endsWith(token)).toBe(true)
      }),
      params(RUNS),
    )
  })
})

describe('parseJwks', () => {
  let real: TestKey[]
  beforeAll(async () => {
    real = await Promise.all([createKey('RS256'), createKey('ES256'), createKey('EdDSA')])
  })

  const field = fc.oneof(fc.jsonValue({ maxDepth: 1 }), b64string, fc.constant(undefined))
  const jwkish = fc.record(
    {
      kty: fc.oneof(
        fc.constantFrom('RSA', 'EC', 'OKP', 'oct', 'rsa', ''),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      crv: fc.oneof(
        fc.constantFrom('P-256', 'P-384', 'P-521', 'Ed25519', 'Ed448', 'X25519', 'secp256k1'),
        field,
      ),
      n: field,
      e: fc.oneof(fc.constantFrom('AQAB', 'Aw', 'AA'), field),
      x: field,
      y: field,
      d: field,
      k: field,
      kid: field,
      alg: fc.oneof(fc.constantFrom(...ALGS), field),
      use: fc.oneof(fc.constantFrom('sig', 'enc'), field),
      key_ops: fc.oneof(fc.constant(['verify']), fc.jsonValue({ maxDepth: 1 })),
    },
    { requiredKeys: [] },
  )

  it('returns a key set or throws FetchError for any JSON document, counting every key', () => {
    const mutated = fc.tuple(fc.nat(2), jwkish).map(([i, patch]) => ({ ...real[i]!.jwk, ...patch }))
    const documents = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({
        keys: fc.array(fc.oneof(jwkish, mutated, fc.jsonValue({ maxDepth: 2 })), { maxLength: 5 }),
      }),
    )
    fc.assert(
      fc.property(documents, (document) => {
        let parsed: ReturnType<typeof parseJwks>
        try {
          parsed = parseJwks(document)
        } catch (error) {
          if (!(error instanceof FetchError)) throw error
          return
        }
        const keys = (document as { keys: unknown[] }).keys
        const skipped = [...parsed.skipped.values()].reduce((a, b) => a + b, 0)
        expect(parsed.set.keys.length + skipped).toBe(keys.length)
        for (const key of parsed.set.keys) {
          expect(['RSA', 'EC', 'OKP']).toContain(key.family)
          expect(key.keyObject.type).toBe('public')
        }
      }),
      params(Math.max(100, Math.floor(RUNS / 2))),
    )
  })
})

describe('the verifier', () => {
  let key: TestKey
  let privateKey: KeyObject
  let verifier: Verifier
  let accepted = 0

  beforeAll(async () => {
    key = await createKey('EdDSA')
    privateKey =
      key.privateKey instanceof KeyObject ? key.privateKey : KeyObject.from(key.privateKey)
    verifier = createVerifier({
      logger: captureLogger().logger,
      tokenCache: false,
      issuers: [
        { issuer: STATIC_ISS, audience: 'api', keys: jwks(key) },
        { issuer: HMAC_ISS, audience: ['api', 'other'], secret: SECRET },
      ],
    })
  })

  async function outcome(token: string): Promise<void> {
    try {
      const principal = await verifier.verify(token)
      expect([STATIC_ISS, HMAC_ISS]).toContain(principal.issuer)
      expect(typeof principal.subject).toBe('string')
      accepted++
    } catch (error) {
      expectAuthError(error)
      expect(error.code).toBe('invalid_token')
    }
  }

  it('resolves or rejects with an invalid_token AuthError for any string', async () => {
    await fc.assert(fc.asyncProperty(tokenish, outcome), params(RUNS))
  })

  it('resolves or rejects with an invalid_token AuthError for signed tokens of arbitrary claims', async () => {
    const now = nowSeconds()
    const anyValue = fc.jsonValue({ maxDepth: 2 })
    // Mostly valid values, so that every check is reached; sometimes anything at all.
    const mostly = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
      fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: anyValue, weight: 1 })
    const rarely = (value: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
      fc.option(value, { freq: 6, nil: undefined })
    const time = (valid: fc.Arbitrary<number>): fc.Arbitrary<unknown> =>
      fc.oneof(
        { arbitrary: valid, weight: 8 },
        { arbitrary: fc.constant(undefined), weight: 1 },
        {
          arbitrary: fc.oneof(fc.double(), fc.constantFrom(1e308, -1e308, 0, -1, '1e400', '0')),
          weight: 1,
        },
        { arbitrary: anyValue, weight: 1 },
      )
    // JSON.stringify drops the members left undefined.
    const header = fc.record({
      alg: mostly(fc.constantFrom('EdDSA', 'HS256', 'HS512', 'RS256', 'none')),
      kid: fc.oneof(
        fc.constant(undefined),
        fc.constant(key.kid),
        rarely(fc.oneof(b64string, anyValue)),
      ),
      typ: rarely(mostly(fc.constantFrom('JWT', 'at+jwt'))),
      crit: rarely(anyValue),
      jku: rarely(fc.webUrl()),
    })
    const payload = fc.record({
      iss: mostly(fc.constantFrom(STATIC_ISS, HMAC_ISS, 'https://static.test/')),
      sub: mostly(fc.oneof(fc.constant('alice'), fc.string())),
      aud: mostly(
        fc.oneof(fc.constantFrom('api', 'other', 'nope'), fc.array(fc.constantFrom('api', 'x'))),
      ),
      exp: time(fc.integer({ min: now - 600, max: now + 7200 })),
      nbf: rarely(time(fc.integer({ min: now - 7200, max: now + 600 }))),
      iat: rarely(time(fc.integer({ min: now - 7200, max: now + 600 }))),
      scope: rarely(mostly(fc.string())),
      scp: rarely(anyValue),
    })
    const tokens = fc.tuple(header, payload, fc.boolean()).map(([h, p, honest]) => {
      const input = `${b64(JSON.stringify(h))}.${b64(JSON.stringify(p))}`
      const signature = !honest
        ? Buffer.from('not a signature at all, just bytes')
        : h.alg === 'EdDSA'
          ? cryptoSign(null, Buffer.from(input), privateKey)
          : createHmac(h.alg === 'HS512' ? 'sha512' : 'sha256', SECRET)
              .update(input)
              .digest()
      return `${input}.${signature.toString('base64url')}`
    })
    await fc.assert(fc.asyncProperty(tokens, outcome), params(RUNS))
    // Not vacuous: some of those arbitrary-claims tokens were valid and were accepted.
    expect(accepted).toBeGreaterThan(0)
  })
})

describe('the Fastify request path', () => {
  let app: FastifyInstance
  beforeAll(async () => {
    const key = await createKey('ES256')
    app = Fastify({ logger: false })
    await app.register(jwtAuth, {
      logger: captureLogger().logger,
      issuers: [{ issuer: STATIC_ISS, audience: 'api', keys: jwks(key) }],
    })
    app.get('/me', { preHandler: app.authenticate }, async (request) => ({
      key: request.principal?.key,
    }))
    app.get('/public', async (request) => ({ key: request.principal?.key ?? null }))
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
  })

  // What an HTTP client can put in a header value: tab, visible ASCII, obs-text.
  const headerChar = fc.oneof(
    fc.constantFrom('\t', ' '),
    fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
  )
  const headerValue = fc.oneof(
    fc.string({ unit: headerChar, maxLength: 120 }),
    fc
      .tuple(fc.constantFrom('Bearer ', 'bearer ', 'Bearer  ', 'Basic '), tokenish)
      .map(([s, t]) => `${s}${t}`.replace(/[^\t\x20-\x7e\x80-\xff]/g, '')),
  )

  it('answers any Authorization header with 200, 400 or 401 and our JSON body, never 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(headerValue, fc.array(headerValue, { minLength: 2, maxLength: 3 })),
        fc.constantFrom('/me', '/public'),
        async (value, url) => {
          // Several values become several Authorization lines in rawHeaders.
          const response = await app.inject({
            method: 'GET',
            url,
            headers: { authorization: value as string },
          })
          expect([200, 400, 401]).toContain(response.statusCode)
          const body = response.json<Record<string, unknown>>()
          if (response.statusCode === 200) {
            expect(url).toBe('/public')
            expect(body).toEqual({ key: null })
            return
          }
          expect(Object.keys(body).sort()).toEqual(['error', 'error_description'])
          expect(['invalid_request', 'invalid_token', 'missing_token']).toContain(body.error)
          expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="api"/)
        },
      ),
      params(Math.max(50, Math.floor(RUNS / 5))),
    )
  })
})
