import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { spawn } from 'node:child_process'
import { KeyObject } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { exportJWK, exportSPKI, type CryptoKey } from 'jose'
import { createVerifier, type Verifier } from '../src/verifier.js'
import type { VerifierOptions } from '../src/verifier-options.js'
import {
  b64json,
  createKey,
  jwks,
  nowSeconds,
  sign,
  signHmac,
  type TestKey,
} from '../../../test/helpers/keys.js'
import { startServer, type TestServer } from '../../../test/helpers/server.js'
import { captureLogger, type CapturedLogger } from '../../../test/helpers/log.js'
import { createTestClock, withClock } from '../../../test/helpers/clock.js'
import {
  expectRejection,
  invalidToken,
  type AuthErrorShape,
} from '../../../test/helpers/auth-error.js'

const SECRET = 'an HMAC secret of at least 32 bytes, for the legacy issuer'
const STATIC = 'https://static.test'
const LEGACY = 'https://legacy.test'
const STRICT = 'https://strict.test'
const LENIENT = 'https://lenient.test'
const ES_ONLY = 'https://es-only.test'

let server: TestServer
let attacker: TestServer
let ISS: string
let rsa: TestKey
let rsa2: TestKey
let rsaNoAlg: TestKey
let ec: TestKey
let ed: TestKey
let evil: TestKey
let staticKey: TestKey
let esKey: TestKey
let esRsa: TestKey
let log: CapturedLogger
let verifier: Verifier

function options(overrides: Partial<VerifierOptions> = {}): VerifierOptions {
  return {
    logger: log.logger,
    tokenCache: false,
    issuers: [
      { issuer: ISS, audience: ['api', 'https://api.test'], jwksUri: `${ISS}/jwks` },
      { issuer: STATIC, audience: 'api', keys: jwks(staticKey) },
      { issuer: LEGACY, audience: 'api', secret: SECRET },
      { issuer: STRICT, audience: 'api', keys: jwks(staticKey), maxTokenAge: 300, typ: 'at+jwt' },
      {
        issuer: LENIENT,
        audience: 'api',
        keys: jwks(staticKey),
        clockTolerance: 60,
        requireExp: false,
      },
      { issuer: ES_ONLY, audience: 'api', keys: jwks(esKey, esRsa), algorithms: ['ES256'] },
    ],
    ...overrides,
  }
}

function claims(iss: string = ISS, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss, sub: 'alice', aud: 'api', ...extra }
}

async function rejects(
  token: string,
  reason: string,
  v: Verifier = verifier,
): Promise<AuthErrorShape> {
  return expectRejection(v.verify(token), invalidToken(reason), token, log.raw)
}

beforeAll(async () => {
  server = await startServer()
  attacker = await startServer()
  ISS = server.origin
  ;[rsa, rsa2, rsaNoAlg, ec, ed, evil, staticKey, esKey, esRsa] = await Promise.all([
    createKey('RS256'),
    createKey('RS256'),
    createKey('RS256', { jwkAlg: false }),
    createKey('ES256'),
    createKey('EdDSA'),
    createKey('RS256', { kid: 'attacker' }),
    createKey('EdDSA'),
    createKey('ES256'),
    createKey('RS256'),
  ])
  server.route('/jwks', { kind: 'json', body: jwks(rsa, rsa2, rsaNoAlg, ec, ed) })
  attacker.route('/jwks', { kind: 'json', body: jwks(evil) })
  attacker.route('/x5u', {
    kind: 'raw',
    body: 'certificate',
    contentType: 'application/pem-certificate-chain',
  })
  log = captureLogger()
  verifier = createVerifier(options())
})

afterEach(() => {
  vi.useRealTimers()
})

afterAll(async () => {
  await server.close()
  await attacker.close()
})

describe('verify: honest tokens', () => {
  it('accepts RS256, ES256, EdDSA tokens from the JWKS and returns the principal', async () => {
    for (const key of [rsa, ec, ed]) {
      const token = await sign(
        key,
        claims(ISS, { scope: 'orders:read profile', scp: ['orders:read', 'admin'] }),
      )
      const principal = await verifier.verify(token)
      expect(principal.issuer).toBe(ISS)
      expect(principal.subject).toBe('alice')
      expect(principal.key).toBe(`${ISS}|alice`)
      expect(principal.audience).toEqual(['api'])
      expect(principal.scopes).toEqual(['orders:read', 'profile', 'admin'])
      expect(principal.expiresAt).toBeInstanceOf(Date)
      expect(Object.isFrozen(principal.claims)).toBe(true)
    }
  })

  it('accepts every algorithm of a JWK that names none', async () => {
    for (const alg of ['RS256', 'RS384', 'PS256', 'PS512']) {
      await expect(
        verifier.verify(await sign(unbound(rsaNoAlg), claims(), { signAlg: alg })),
      ).resolves.toBeDefined()
    }
  })

  it('accepts a token from static keys and from an HMAC secret, without any network request', async () => {
    const before = server.hits() + attacker.hits()
    await expect(verifier.verify(await sign(staticKey, claims(STATIC)))).resolves.toMatchObject({
      issuer: STATIC,
    })
    for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
      await expect(
        verifier.verify(await signHmac(SECRET, claims(LEGACY), { alg })),
      ).resolves.toMatchObject({
        issuer: LEGACY,
      })
    }
    expect(server.hits() + attacker.hits()).toBe(before)
  })

  it('accepts a token without kid when exactly one key fits its alg', async () => {
    const token = await sign(ec, claims(), { header: { kid: undefined } })
    await expect(verifier.verify(token)).resolves.toBeDefined()
    await expect(
      verifier.verify(await sign(staticKey, claims(STATIC), { header: { kid: undefined } })),
    ).resolves.toBeDefined()
  })

  it('gives the principals of the same sub at two issuers different keys', async () => {
    const a = await verifier.verify(await sign(rsa, claims(ISS)))
    const b = await verifier.verify(await sign(staticKey, claims(STATIC)))
    expect(a.subject).toBe(b.subject)
    expect(a.key).not.toBe(b.key)
  })
})

describe('verify: the reason of each failure', () => {
  it('rejects what is not a JWT as malformed', async () => {
    const sig = 'c2lnbmF0dXJlIGJ5dGVz'
    for (const token of [
      '',
      'not-a-jwt-at-all',
      `${b64json({ alg: 'RS256' })}.${b64json(claims())}`,
      `${b64json({ alg: 'RS256' })}.${b64json(claims())}.${sig}.${sig}`,
      `${b64json({ alg: 'RS256' })}.${b64json([claims()])}.${sig}`,
      `${b64json('RS256')}.${b64json(claims())}.${sig}`,
      `${b64json({ alg: 'RS256' })}.${b64json(claims())}.${sig}=`,
    ]) {
      await rejects(token, 'malformed')
    }
    await expectRejection(verifier.verify(42 as unknown as string), invalidToken('malformed'), 'x')
  })

  it('rejects a token over maxTokenLength as malformed before decoding it, and accepts its twin at the limit', async () => {
    const token = await sign(rsa, claims())
    const v = createVerifier(options({ maxTokenLength: token.length }))
    await expect(v.verify(token)).resolves.toBeDefined()
    const longer = await sign(rsa, claims(ISS, { pad: 'x' }))
    await rejects(longer, 'malformed', v)
  })

  it('rejects a kid that is not a string as malformed', async () => {
    const honest = await sign(rsa, claims())
    await expect(verifier.verify(honest)).resolves.toBeDefined()
    await rejects(await sign(rsa, claims(), { header: { kid: 42 } }), 'malformed')
  })

  it('rejects an unlisted issuer as untrusted_issuer', async () => {
    await expect(verifier.verify(await sign(rsa, claims(ISS)))).resolves.toBeDefined()
    await rejects(await sign(rsa, claims('https://evil.test')), 'untrusted_issuer')
    await rejects(await sign(rsa, { sub: 'alice', aud: 'api' }), 'untrusted_issuer')
    await rejects(await sign(rsa, claims(ISS, { iss: [ISS] })), 'untrusted_issuer')
  })

  it('compares the issuer exactly and case-sensitively', async () => {
    await expect(verifier.verify(await sign(rsa, claims(ISS)))).resolves.toBeDefined()
    for (const iss of [
      ISS.toUpperCase(),
      `${ISS}/`,
      ` ${ISS}`,
      ISS.replace('127.0.0.1', 'localhost'),
      STATIC.toUpperCase(),
    ]) {
      await rejects(await sign(rsa, claims(iss)), 'untrusted_issuer')
    }
  })

  it('rejects a kid the issuer does not have as unknown_kid', async () => {
    await expect(verifier.verify(await sign(rsa, claims()))).resolves.toBeDefined()
    await expect(verifier.verify(await sign(staticKey, claims(STATIC)))).resolves.toBeDefined()
    await rejects(await sign(rsa, claims(), { header: { kid: 'no-such-kid' } }), 'unknown_kid')
    await rejects(
      await sign(staticKey, claims(STATIC), { header: { kid: 'no-such-kid' } }),
      'unknown_kid',
    )
  })

  it('rejects a token without kid when several keys fit, instead of trying each', async () => {
    // rsa, rsa2 and rsaNoAlg all fit RS256.
    await rejects(await sign(rsa, claims(), { header: { kid: undefined } }), 'unknown_kid')
    await expect(verifier.verify(await sign(rsa, claims()))).resolves.toBeDefined()
  })

  it('rejects an algorithm outside the issuer allowlist as alg_not_allowed', async () => {
    await expect(verifier.verify(await sign(esKey, claims(ES_ONLY)))).resolves.toBeDefined()
    await rejects(await sign(esRsa, claims(ES_ONLY)), 'alg_not_allowed')
  })

  it('rejects an alg that does not fit the key type or the JWK alg as key_mismatch', async () => {
    // ES256 signature presented under the kid of an RSA key.
    await expect(verifier.verify(await sign(ec, claims()))).resolves.toBeDefined()
    await rejects(await sign(ec, claims(), { header: { kid: rsa.kid } }), 'key_mismatch')
    // The JWK says RS256: a PS256 signature made by the same private key must not be used with it.
    await rejects(await sign(unbound(rsa), claims(), { signAlg: 'PS256' }), 'key_mismatch')
    await expect(
      verifier.verify(await sign(unbound(rsaNoAlg), claims(), { signAlg: 'PS256' })),
    ).resolves.toBeDefined()
  })

  it('rejects a signature made with another key as bad_signature', async () => {
    await rejects(await sign(evil, claims(), { header: { kid: rsa.kid } }), 'bad_signature')
    const honest = await sign(rsa, claims())
    await expect(verifier.verify(honest)).resolves.toBeDefined()
    const [h, , s] = honest.split('.') as [string, string, string]
    await rejects(
      `${h}.${b64json({ ...claims(), sub: 'mallory', exp: nowSeconds() + 60 })}.${s}`,
      'bad_signature',
    )
  })

  it('rejects an HMAC token signed with another secret as bad_signature', async () => {
    await expect(verifier.verify(await signHmac(SECRET, claims(LEGACY)))).resolves.toBeDefined()
    await rejects(
      await signHmac('another secret that is also 32 bytes long', claims(LEGACY)),
      'bad_signature',
    )
  })

  it('rejects any crit header as unsupported_crit', async () => {
    await expect(verifier.verify(await sign(rsa, claims()))).resolves.toBeDefined()
    await rejects(
      await sign(rsa, claims(), { header: { crit: ['b64'], b64: true } }),
      'unsupported_crit',
    )
  })

  it('rejects a claim of the wrong type as invalid_claim', async () => {
    await expect(
      verifier.verify(await sign(rsa, claims(ISS, { exp: nowSeconds() + 60 }))),
    ).resolves.toBeDefined()
    await rejects(await sign(rsa, claims(ISS, { exp: String(nowSeconds() + 60) })), 'invalid_claim')
    await rejects(await sign(rsa, claims(ISS, { sub: 42 })), 'invalid_claim')
    await rejects(await sign(rsa, claims(ISS, { aud: 7 })), 'invalid_claim')
  })

  it('rejects a token without exp as missing_exp, unless the issuer does not require it', async () => {
    await rejects(await sign(staticKey, claims(STATIC, { exp: undefined })), 'missing_exp')
    await expect(
      verifier.verify(await sign(staticKey, claims(LENIENT, { exp: undefined }))),
    ).resolves.toBeDefined()
  })

  it('rejects an aud without any of the issuer audiences as audience_mismatch', async () => {
    await expect(
      verifier.verify(await sign(rsa, claims(ISS, { aud: ['other', 'https://api.test'] }))),
    ).resolves.toBeDefined()
    await rejects(await sign(rsa, claims(ISS, { aud: ['other'] })), 'audience_mismatch')
    await rejects(await sign(rsa, claims(ISS, { aud: 'API' })), 'audience_mismatch')
    // The audience of another issuer does not count.
    await rejects(
      await sign(staticKey, claims(STATIC, { aud: 'https://api.test' })),
      'audience_mismatch',
    )
  })

  it('rejects a token without sub as missing_subject', async () => {
    await expect(verifier.verify(await sign(rsa, claims(ISS)))).resolves.toBeDefined()
    await rejects(await sign(rsa, claims(ISS, { sub: undefined })), 'missing_subject')
    await rejects(await sign(rsa, claims(ISS, { sub: '' })), 'missing_subject')
  })

  it('rejects a typ other than the issuer requires as typ_mismatch', async () => {
    await expect(
      verifier.verify(await sign(staticKey, claims(STRICT), { header: { typ: 'at+jwt' } })),
    ).resolves.toBeDefined()
    await expect(
      verifier.verify(
        await sign(staticKey, claims(STRICT), { header: { typ: 'application/AT+JWT' } }),
      ),
    ).resolves.toBeDefined()
    await rejects(await sign(staticKey, claims(STRICT), { header: { typ: 'JWT' } }), 'typ_mismatch')
    await rejects(await sign(staticKey, claims(STRICT)), 'typ_mismatch')
  })

  it('requires iat with maxTokenAge and rejects an older token as token_too_old', async () => {
    const header = { typ: 'at+jwt' }
    await rejects(
      await sign(staticKey, claims(STRICT, { iat: undefined }), { header }),
      'missing_iat',
    )
    await rejects(
      await sign(staticKey, claims(STRICT, { iat: nowSeconds() - 400 }), { header }),
      'token_too_old',
    )
    await expect(
      verifier.verify(
        await sign(staticKey, claims(STRICT, { iat: nowSeconds() - 200 }), { header }),
      ),
    ).resolves.toBeDefined()
  })
})

describe('verify: the order of checks', () => {
  it('reports the earliest failing step when a token fails several', async () => {
    const old = { exp: nowSeconds() - 3600, iat: nowSeconds() - 7200, aud: 'other', sub: undefined }
    // Untrusted issuer comes before everything that needs a key.
    await rejects(
      await sign(evil, claims('https://evil.test', old), {
        header: { kid: 'nope', crit: ['b64'], b64: true },
      }),
      'untrusted_issuer',
    )
    // Then the key, before the algorithm.
    await rejects(
      await signHmac(SECRET, claims(ISS, old), { header: { kid: 'nope' } }),
      'unknown_kid',
    )
    // Then the algorithm, before the signature.
    await rejects(
      await signHmac(SECRET, claims(ISS, old), { header: { kid: rsa.kid } }),
      'alg_not_allowed',
    )
    await rejects(await sign(ec, claims(ISS, old), { header: { kid: rsa.kid } }), 'key_mismatch')
    // Then the signature, before anything the payload says.
    await rejects(
      await sign(evil, claims(ISS, old), { header: { kid: rsa.kid, crit: ['b64'], b64: true } }),
      'bad_signature',
    )
    // Then crit, then the claims, time first.
    await rejects(
      await sign(rsa, claims(ISS, old), { header: { crit: ['b64'], b64: true } }),
      'unsupported_crit',
    )
    await rejects(await sign(rsa, claims(ISS, old)), 'expired')
    await rejects(
      await sign(rsa, claims(ISS, { aud: 'other', sub: undefined })),
      'audience_mismatch',
    )
    // The honest twin passes every step.
    await expect(verifier.verify(await sign(rsa, claims()))).resolves.toBeDefined()
  })
})

describe('verify: time, with clockTolerance', () => {
  const T = Date.UTC(2030, 0, 1) // a fixed instant
  const t = T / 1000

  it('accepts exp up to 5 s in the past by default and rejects it beyond as expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T)
    await expect(
      verifier.verify(await sign(staticKey, claims(STATIC, { iat: t - 60, exp: t - 4 }))),
    ).resolves.toBeDefined()
    await rejects(await sign(staticKey, claims(STATIC, { iat: t - 60, exp: t - 5 })), 'expired')
    await rejects(await sign(staticKey, claims(STATIC, { iat: t - 60, exp: t - 6 })), 'expired')
  })

  it('rejects nbf beyond the tolerance as not_yet_valid', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T)
    await expect(
      verifier.verify(await sign(staticKey, claims(STATIC, { nbf: t + 5 }))),
    ).resolves.toBeDefined()
    await rejects(await sign(staticKey, claims(STATIC, { nbf: t + 6 })), 'not_yet_valid')
  })

  it('rejects iat beyond the tolerance as issued_in_future', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T)
    await expect(
      verifier.verify(await sign(staticKey, claims(STATIC, { iat: t + 5 }))),
    ).resolves.toBeDefined()
    await rejects(await sign(staticKey, claims(STATIC, { iat: t + 6 })), 'issued_in_future')
  })

  it('uses the per-issuer clockTolerance over the verifier one', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T)
    const late = { iat: t - 120, exp: t - 30 }
    await expect(
      verifier.verify(await sign(staticKey, claims(LENIENT, late))),
    ).resolves.toBeDefined()
    await rejects(await sign(staticKey, claims(STATIC, late)), 'expired')
    await rejects(await sign(staticKey, claims(LENIENT, { iat: t - 120, exp: t - 61 })), 'expired')
  })

  it('uses the verifier clockTolerance option', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T)
    const strictClock = createVerifier(options({ clockTolerance: 0 }))
    const token = await sign(staticKey, claims(STATIC, { iat: t - 60, exp: t - 1 }))
    await expect(verifier.verify(token)).resolves.toBeDefined()
    await rejects(token, 'expired', strictClock)
  })
})

describe('verify: attacks', () => {
  it('makes no request to any server for an untrusted issuer, whatever jku, x5u and kid say', async () => {
    const v = createVerifier(options())
    server.resetHits()
    attacker.resetHits()
    const token = await sign(evil, claims('https://evil.test'), {
      header: { kid: rsa.kid, jku: `${attacker.origin}/jwks`, x5u: `${attacker.origin}/x5u` },
    })
    await rejects(token, 'untrusted_issuer', v)
    await rejects(
      await sign(rsa, claims(ISS.toUpperCase()), { header: { jku: `${ISS}/jwks` } }),
      'untrusted_issuer',
      v,
    )
    expect(server.hits()).toBe(0)
    expect(attacker.hits()).toBe(0)
    // The honest twin on the same cold verifier does fetch the issuer's own JWKS.
    await expect(v.verify(await sign(rsa, claims()))).resolves.toBeDefined()
    expect(server.hits('/jwks')).toBe(1)
    expect(attacker.hits()).toBe(0)
  })

  it('never takes the key from the jwk header', async () => {
    const honest = await sign(rsa, claims())
    await expect(verifier.verify(honest)).resolves.toBeDefined()
    await rejects(await sign(evil, claims(), { header: { jwk: evil.jwk } }), 'unknown_kid')
    await rejects(
      await sign(evil, claims(), { header: { kid: rsa.kid, jwk: { ...evil.jwk, kid: rsa.kid } } }),
      'bad_signature',
    )
    await rejects(
      await sign(evil, claims(STATIC), { header: { kid: undefined, jwk: evil.jwk } }),
      'key_mismatch',
    )
  })

  it('never fetches a key from jku or x5u, nor uses x5c', async () => {
    attacker.resetHits()
    await rejects(
      await sign(evil, claims(), { header: { jku: `${attacker.origin}/jwks` } }),
      'unknown_kid',
    )
    await rejects(
      await sign(evil, claims(), {
        header: { kid: rsa.kid, x5u: `${attacker.origin}/x5u`, x5c: ['MIIBIjANBgkq'] },
      }),
      'bad_signature',
    )
    expect(attacker.hits()).toBe(0)
    await expect(
      verifier.verify(await sign(rsa, claims(), { header: { jku: `${attacker.origin}/jwks` } })),
    ).resolves.toBeDefined()
    expect(attacker.hits()).toBe(0)
  })

  it('never accepts alg none, in any case', async () => {
    // The honest twins: the same claims, signed by the RSA key and by the legacy secret.
    await expect(verifier.verify(await sign(rsa, claims()))).resolves.toBeDefined()
    await expect(verifier.verify(await signHmac(SECRET, claims(LEGACY)))).resolves.toBeDefined()
    const payload = b64json({ ...claims(), exp: nowSeconds() + 60 })
    await rejects(`${b64json({ alg: 'none' })}.${payload}.`, 'malformed')
    for (const alg of ['none', 'None', 'NONE']) {
      await rejects(`${b64json({ alg, kid: rsa.kid })}.${payload}.AAAA`, 'alg_not_allowed')
      await rejects(
        `${b64json({ alg })}.${b64json({ ...claims(LEGACY), exp: nowSeconds() + 60 })}.AAAA`,
        'alg_not_allowed',
      )
    }
  })

  it('refuses an HMAC token signed with the issuer public key as its secret', async () => {
    const pem = await exportSPKI(rsa.publicKey)
    await rejects(await signHmac(pem, claims(), { header: { kid: rsa.kid } }), 'alg_not_allowed')
    await rejects(
      await signHmac(JSON.stringify(rsa.jwk), claims(), { header: { kid: rsa.kid } }),
      'alg_not_allowed',
    )
    await expect(verifier.verify(await sign(rsa, claims()))).resolves.toBeDefined()
  })

  it('refuses an asymmetric token for an issuer configured with a secret', async () => {
    await expect(verifier.verify(await signHmac(SECRET, claims(LEGACY)))).resolves.toBeDefined()
    await rejects(
      await sign(rsa, claims(LEGACY), { header: { kid: undefined } }),
      'alg_not_allowed',
    )
    // The secret serves whatever kid a token names; the RSA alg is still not allowed for it.
    await rejects(await sign(rsa, claims(LEGACY)), 'alg_not_allowed')
  })

  it('accepts an HMAC token that names a kid, since the secret is the issuer only key', async () => {
    await expect(
      verifier.verify(await signHmac(SECRET, claims(LEGACY), { header: { kid: 'hs-2026' } })),
    ).resolves.toMatchObject({ issuer: LEGACY })
  })

  it('does not let one issuer key sign for another issuer', async () => {
    await expect(verifier.verify(await sign(staticKey, claims(STATIC)))).resolves.toBeDefined()
    await rejects(await sign(staticKey, claims(ISS)), 'unknown_kid')
    await rejects(
      await sign(rsa, claims(STATIC), { header: { kid: staticKey.kid } }),
      'key_mismatch',
    )
  })
})

describe('verify: the remembered headers of verified tokens', () => {
  it('refuses a forged token that carries the header of a verified one, and verifies its honest twin', async () => {
    const v = createVerifier(options())
    const honest = await sign(rsa, claims())
    await expect(v.verify(honest)).resolves.toBeDefined()
    const [header = '', payload = ''] = honest.split('.')
    // The same header segment, now remembered, over another key's signature of other claims.
    const forged = (await sign(evil, claims(ISS, { sub: 'mallory' }), { header: { kid: rsa.kid } }))
      .split('.')
      .map((part, i) => (i === 0 ? header : part))
      .join('.')
    await rejects(forged, 'bad_signature', v)
    // The honest payload with a signature cut short, behind the same header.
    await rejects(`${header}.${payload}.${'A'.repeat(10)}`, 'bad_signature', v)
    // A second honest token of the same header, and the first again, still verify.
    await expect(v.verify(await sign(rsa, claims(ISS, { sub: 'bob' })))).resolves.toMatchObject({
      subject: 'bob',
    })
    await expect(v.verify(honest)).resolves.toBeDefined()
  })

  it("still reads each token's own header: a remembered one never stands in for another", async () => {
    const v = createVerifier(options())
    await expect(v.verify(await sign(rsa, claims()))).resolves.toBeDefined()
    // Another header (another kid) of the same issuer: its own key, its own verdict.
    await expect(v.verify(await sign(rsa2, claims()))).resolves.toBeDefined()
    await rejects(
      await sign(rsa, claims(), { header: { crit: ['b64'], b64: true } }),
      'unsupported_crit',
      v,
    )
  })
})

describe('authenticate', () => {
  it('returns null without a bearer token and the principal with one', async () => {
    const token = await sign(rsa, claims())
    await expect(verifier.authenticate(undefined)).resolves.toBeNull()
    await expect(verifier.authenticate('Basic YWxhZGRpbjpvcGVuc2VzYW1l')).resolves.toBeNull()
    await expect(verifier.authenticate(`bearer ${token}`)).resolves.toMatchObject({
      subject: 'alice',
    })
    await expect(verifier.authenticate([`Bearer ${token}`])).resolves.toMatchObject({
      subject: 'alice',
    })
  })

  it('rejects several headers or a spaced token as invalid_request', async () => {
    const token = await sign(rsa, claims())
    for (const [value, reason] of [
      [[`Bearer ${token}`, `Bearer ${token}`], 'multiple_authorization_headers'],
      [`Bearer ${token} x`, 'malformed_authorization_header'],
      ['Bearer ', 'malformed_authorization_header'],
    ] as const) {
      await expectRejection(
        verifier.authenticate(value),
        { code: 'invalid_request', reason, status: 400 },
        token,
        log.raw,
      )
    }
  })

  it('rejects a bad token with the reason of verify', async () => {
    const token = await sign(rsa, claims('https://evil.test'))
    await expectRejection(
      verifier.authenticate(`Bearer ${token}`),
      invalidToken('untrusted_issuer'),
      token,
      log.raw,
    )
  })

  it('uses the configured realm in challenges', async () => {
    const v = createVerifier(options({ realm: 'orders' }))
    const token = await sign(rsa, claims('https://evil.test'))
    await expectRejection(
      v.verify(token),
      invalidToken('untrusted_issuer'),
      token,
      log.raw,
      'orders',
    )
    expect(v.errors.missingToken().headers['WWW-Authenticate']).toBe('Bearer realm="orders"')
  })
})

describe('logging', () => {
  it('logs an untrusted issuer at warn with event, iss, kid, alg, reqId and remoteAddress', async () => {
    const capture = captureLogger()
    const v = createVerifier(options({ logger: capture.logger }))
    const token = await sign(rsa, claims('https://evil.test'), { header: { kid: 'k-1' } })
    await expectRejection(
      v.verify(token, { reqId: 'req-7', remoteAddress: '203.0.113.9' }),
      invalidToken('untrusted_issuer'),
      token,
      capture.raw,
    )
    expect(capture.lines).toHaveLength(1)
    expect(capture.lines[0]).toMatchObject({
      level: 40,
      event: 'untrusted_issuer',
      iss: 'https://evil.test',
      kid: 'k-1',
      alg: 'RS256',
      reqId: 'req-7',
      remoteAddress: '203.0.113.9',
      suppressed: 0,
    })
  })

  it('cuts a long iss to 256 characters and escapes control characters', async () => {
    const capture = captureLogger()
    const v = createVerifier(options({ logger: capture.logger }))
    const forged = 'https://evil.test/\n{"level":30,"msg":"all good"}'
    await rejects(
      await sign(rsa, claims(forged), { header: { kid: 'a\u2028b' } }),
      'untrusted_issuer',
      v,
    )
    await rejects(await sign(rsa, claims('x'.repeat(5000))), 'untrusted_issuer', v)
    expect(capture.raw).toHaveLength(2)
    expect(capture.lines[0]?.iss).toBe('https://evil.test/\\u000a{"level":30,"msg":"all good"}')
    expect(capture.lines[0]?.kid).toBe('a\\u2028b')
    expect(capture.raw[0]?.split('\n').filter((line) => line !== '')).toHaveLength(1)
    expect(capture.lines[1]?.iss).toBe('x'.repeat(256))
  })

  it('samples a flood of untrusted tokens and accounts for every rejection', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const clock = createTestClock(Date.UTC(2030, 0, 1))
    clock.at(0)
    const capture = captureLogger()
    const v = createVerifier(withClock(options({ logger: capture.logger }), clock))
    const token = await sign(rsa, claims('https://evil.test'))
    const flood = 5000
    for (let i = 0; i < flood; i++) {
      await expect(v.verify(token)).rejects.toMatchObject({ reason: 'untrusted_issuer' })
    }
    expect(capture.lines.length).toBeGreaterThan(0)
    expect(capture.lines.length).toBeLessThan(flood / 100)
    // Past the 5 s window, the next rejection writes the count of the lines left out.
    clock.at(5000)
    await expect(v.verify(token)).rejects.toMatchObject({ reason: 'untrusted_issuer' })
    const last = capture.lines.at(-1)
    expect(last?.suppressed).toBeGreaterThan(0)
    const suppressed = capture.lines.reduce((sum, line) => sum + (line.suppressed as number), 0)
    expect(capture.lines.length + suppressed).toBe(flood + 1)
    for (const raw of capture.raw) expect(raw.includes(token)).toBe(false)
  })

  it('never writes a token into a log line, whatever fails', async () => {
    const capture = captureLogger('trace')
    const v = createVerifier(options({ logger: capture.logger }))
    const tokens = [
      await sign(rsa, claims('https://evil.test')),
      await sign(rsa, claims(), { header: { kid: 'nope' } }),
      await sign(evil, claims(), { header: { kid: rsa.kid } }),
      await sign(rsa, claims(ISS, { aud: 'other' })),
      await sign(rsa, claims()),
    ]
    for (const token of tokens) await v.verify(token).catch(() => undefined)
    expect(capture.raw.length).toBeGreaterThan(0)
    for (const token of tokens) {
      const signature = token.split('.')[2] ?? token
      for (const raw of capture.raw) {
        expect(raw.includes(token)).toBe(false)
        expect(raw.includes(signature)).toBe(false)
      }
    }
  })
})

describe('no background timers', () => {
  it('lets a process exit on its own after a verification and a timed-out fetch, once its server is closed', async () => {
    const key = await createKey('ES256')
    const dist = new URL('../dist/index.js', import.meta.url).href
    const child = spawn(process.execPath, ['--input-type=module', '-e', childScript(dist)], {
      env: {
        ...process.env,
        JWKS: JSON.stringify(jwks(key)),
        PRIVATE_JWK: JSON.stringify(await privateJwk(key)),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // The repository root, so that the child resolves jose from its node_modules.
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exit = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        resolve('still running after 15 s')
      }, 15_000)
      child.on('exit', (code) => {
        clearTimeout(timer)
        resolve(code ?? -1)
      })
    })
    expect(stderr).toBe('')
    expect(stdout.trim().split('\n')).toEqual(['alice', 'jwks_unavailable'])
    expect(exit).toBe(0)
  })
})

/** The same key as a KeyObject, which jose lets sign with any algorithm of its type. */
function unbound(key: TestKey): TestKey {
  return { ...key, privateKey: KeyObject.from(key.privateKey as CryptoKey) }
}

async function privateJwk(key: TestKey): Promise<Record<string, unknown>> {
  return { ...(await exportJWK(key.privateKey)), kid: key.kid, alg: key.alg }
}

/** A child that serves a JWKS, signs a token for its own origin with jose, verifies it, closes. */
/**
 * A child that serves a JWKS and a never-answering endpoint, signs tokens for its own origin with
 * jose, verifies one of each, prints the outcomes, closes its server and has nothing left to do.
 */
function childScript(dist: string): string {
  return `
    import { createServer } from 'node:http'
    import { importJWK, SignJWT } from 'jose'
    import { createVerifier } from ${JSON.stringify(dist)}
    const server = createServer((req, res) => {
      if (req.url === '/hang') return // never answers: the verifier's timeout must end it
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(process.env.JWKS)
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    const origin = 'http://127.0.0.1:' + server.address().port
    const jwk = JSON.parse(process.env.PRIVATE_JWK)
    const token = await new SignJWT({ sub: 'alice', aud: 'api', iss: origin })
      .setProtectedHeader({ alg: jwk.alg, kid: jwk.kid })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(await importJWK(jwk, jwk.alg))
    const hanging = origin + '/hanging'
    const logger = { info() {}, warn() {}, error() {} }
    // The answering issuer keeps the default timeout, so that a loaded machine cannot turn its
    // fetch into a failure; only the hanging one is cut short.
    const verifier = createVerifier({
      issuers: [{ issuer: origin, audience: 'api', jwksUri: origin + '/jwks' }],
      logger,
    })
    const timingOut = createVerifier({
      issuers: [{ issuer: hanging, audience: 'api', jwksUri: origin + '/hang' }],
      jwks: { timeoutDuration: 300 },
      logger,
    })
    const principal = await verifier.verify(token)
    console.log(principal.subject)
    const other = await new SignJWT({ sub: 'alice', aud: 'api', iss: hanging })
      .setProtectedHeader({ alg: jwk.alg, kid: jwk.kid })
      .setExpirationTime('1h')
      .sign(await importJWK(jwk, jwk.alg))
    const error = await timingOut.verify(other).then(() => undefined, (e) => e)
    console.log(error?.code)
    server.close()
  `
}
