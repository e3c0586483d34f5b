import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createVerifier } from '../src/verifier.js'
import { TOKEN_CACHE_MAX_BYTES } from '../src/token-cache.js'
import { verifySignature } from '../src/algorithms.js'
import { createGuard } from '../src/guards.js'
import type { IssuerConfig } from '../src/issuer-config.js'
import type { VerifierOptions } from '../src/verifier-options.js'
import {
  b64json,
  createKey,
  jwks,
  sign,
  signHmac,
  type TestKey,
} from '../../../test/helpers/keys.js'
import { startServer, type TestServer } from '../../../test/helpers/server.js'
import { captureLogger } from '../../../test/helpers/log.js'
import { createTestClock, withClock } from '../../../test/helpers/clock.js'
import {
  expectRejection,
  invalidToken,
  type AuthErrorShape,
} from '../../../test/helpers/auth-error.js'

// "A hit costs no crypto" is proven by counting the signature checks the verifier asks for: the
// real verifySignature still does every check, wrapped in a spy that only counts the calls.
vi.mock('../src/algorithms.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/algorithms.js')>()
  return { ...actual, verifySignature: vi.fn(actual.verifySignature) }
})
const signatureChecks = vi.mocked(verifySignature)

const ISS = 'https://static.test'
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0)
const T0_S = T0 / 1000

let k1: TestKey
let k2: TestKey
let k3: TestKey
let stranger: TestKey
let server: TestServer

beforeAll(async () => {
  ;[k1, k2, k3, stranger] = await Promise.all([
    createKey('RS256', { kid: 'k1' }),
    createKey('ES256', { kid: 'k2' }),
    createKey('EdDSA', { kid: 'k3' }),
    createKey('ES256', { kid: 'not-in-any-set' }),
  ])
  server = await startServer()
})

afterAll(async () => {
  await server.close()
})

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(T0)
  signatureChecks.mockClear()
})

afterEach(() => {
  vi.useRealTimers()
})

const staticIssuer: () => IssuerConfig = () => ({
  issuer: ISS,
  audience: 'api',
  keys: jwks(k1, k2),
})

function verifierWith(overrides: Partial<VerifierOptions> = {}) {
  return createVerifier({ issuers: [staticIssuer()], logger: captureLogger().logger, ...overrides })
}

const claims = (extra: Record<string, unknown> = {}) => ({
  iss: ISS,
  sub: 'alice',
  aud: 'api',
  ...extra,
})

describe('the verified-token cache', () => {
  it('is on by default: verifying a token again returns the same frozen principal with no signature check', async () => {
    const verifier = verifierWith()
    const token = await sign(k1, claims())
    const first = await verifier.verify(token)
    expect(signatureChecks).toHaveBeenCalledTimes(1)
    const second = await verifier.verify(token)
    expect(second).toBe(first)
    expect(Object.isFrozen(second)).toBe(true)
    expect(Object.isFrozen(second.claims)).toBe(true)
    expect(signatureChecks).toHaveBeenCalledTimes(1)
  })

  it('checks every token afresh with tokenCache: false', async () => {
    const verifier = verifierWith({ tokenCache: false })
    const token = await sign(k1, claims())
    const first = await verifier.verify(token)
    const second = await verifier.verify(token)
    expect(second).not.toBe(first)
    expect(second).toEqual(first)
    expect(signatureChecks).toHaveBeenCalledTimes(2)
  })

  it('is keyed on the whole token: a cached signature paired with another payload or header is rejected', async () => {
    const verifier = verifierWith()
    const token = await sign(k1, claims({ scope: 'read' }))
    const principal = await verifier.verify(token)
    const [header, , signature] = token.split('.') as [string, string, string]
    const otherPayload = b64json({ ...principal.claims, scope: 'read admin' })
    const otherHeader = b64json({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
    for (const forged of [
      `${header}.${otherPayload}.${signature}`,
      `${otherHeader}.${token.split('.')[1] ?? ''}.${signature}`,
    ]) {
      await expectRejection(verifier.verify(forged), invalidToken('bad_signature'), forged)
    }
    // The honest twin, the cached token itself, is still a hit.
    expect(await verifier.verify(token)).toBe(principal)
    expect(signatureChecks).toHaveBeenCalledTimes(3)
  })

  it('serves an entry until exp plus clockTolerance, and rejects it as expired one second later', async () => {
    const verifier = verifierWith({ clockTolerance: 5 })
    const token = await sign(k1, claims({ exp: T0_S + 60 }))
    const principal = await verifier.verify(token)
    vi.setSystemTime(T0 + 64_000)
    expect(await verifier.verify(token)).toBe(principal)
    expect(signatureChecks).toHaveBeenCalledTimes(1)
    vi.setSystemTime(T0 + 65_000)
    await expectRejection(verifier.verify(token), invalidToken('expired'), token)
    // The entry is gone: even with the clock set back, the token is checked in full again.
    vi.setSystemTime(T0)
    const again = await verifier.verify(token)
    expect(again).not.toBe(principal)
    expect(signatureChecks).toHaveBeenCalledTimes(3)
  })

  it('checks nbf and iat against the clock on every hit, as when a clock is set back', async () => {
    const verifier = verifierWith({ clockTolerance: 5 })
    const withNbf = await sign(k1, claims({ nbf: T0_S, iat: T0_S - 100 }))
    const withIat = await sign(k1, claims({ iat: T0_S }))
    const principal = await verifier.verify(withNbf)
    const byIat = await verifier.verify(withIat)
    vi.setSystemTime(T0 - 5_000)
    expect(await verifier.verify(withNbf)).toBe(principal)
    expect(await verifier.verify(withIat)).toBe(byIat)
    expect(signatureChecks).toHaveBeenCalledTimes(2)
    vi.setSystemTime(T0 - 6_000)
    await expectRejection(verifier.verify(withNbf), invalidToken('not_yet_valid'), withNbf)
    await expectRejection(verifier.verify(withIat), invalidToken('issued_in_future'), withIat)
  })

  it('drops an entry once its token is older than the issuer maxTokenAge', async () => {
    const verifier = createVerifier({
      issuers: [{ ...staticIssuer(), maxTokenAge: 60 }],
      logger: captureLogger().logger,
      clockTolerance: 0,
    })
    const token = await sign(k1, claims({ iat: T0_S }))
    const principal = await verifier.verify(token)
    vi.setSystemTime(T0 + 60_000)
    expect(await verifier.verify(token)).toBe(principal)
    vi.setSystemTime(T0 + 61_000)
    await expectRejection(verifier.verify(token), invalidToken('token_too_old'), token)
  })

  it('keeps rejections out: failed tokens neither evict a good entry nor are remembered', async () => {
    const verifier = verifierWith({ tokenCache: { max: 2 } })
    const good = await sign(k1, claims())
    const principal = await verifier.verify(good)
    const [header, , signature] = good.split('.') as [string, string, string]
    const failures: [string, string][] = []
    for (let i = 0; i < 20; i++) {
      failures.push([
        `${header}.${b64json(claims({ jti: `forged-${String(i)}` }))}.${signature}`,
        'bad_signature',
      ])
      failures.push([
        await sign(k1, claims({ jti: `old-${String(i)}`, exp: T0_S - 60 })),
        'expired',
      ])
      failures.push([
        await sign(k2, claims({ jti: `aud-${String(i)}`, aud: 'elsewhere' })),
        'audience_mismatch',
      ])
    }
    signatureChecks.mockClear()
    for (const [token, reason] of failures) {
      await expectRejection(verifier.verify(token), invalidToken(reason), token)
    }
    expect(signatureChecks).toHaveBeenCalledTimes(failures.length)
    // The same failures again cost a full check each: no verdict was remembered for them.
    for (const [token, reason] of failures.slice(0, 3)) {
      await expectRejection(verifier.verify(token), invalidToken(reason), token)
    }
    expect(signatureChecks).toHaveBeenCalledTimes(failures.length + 3)
    // The good entry survived 63 rejections in a cache of two.
    expect(await verifier.verify(good)).toBe(principal)
    expect(signatureChecks).toHaveBeenCalledTimes(failures.length + 3)
  })

  it('is bounded: beyond its max, the least recently used token is checked afresh', async () => {
    const verifier = verifierWith({ tokenCache: { max: 2 } })
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((sub) => sign(k1, claims({ sub }))))
    const pa = await verifier.verify(a as string)
    const pb = await verifier.verify(b as string)
    expect(await verifier.verify(a as string)).toBe(pa)
    const pc = await verifier.verify(c as string) // evicts b, the least recently used
    expect(signatureChecks).toHaveBeenCalledTimes(3)
    expect(await verifier.verify(a as string)).toBe(pa)
    expect(await verifier.verify(c as string)).toBe(pc)
    expect(signatureChecks).toHaveBeenCalledTimes(3)
    expect(await verifier.verify(b as string)).not.toBe(pb)
    expect(signatureChecks).toHaveBeenCalledTimes(4)
  })

  it('is bounded by estimated memory too: tokens of many small claims are evicted long before the count limit', async () => {
    const secret = 'a secret of at least thirty-two bytes, for HS256'
    const verifier = createVerifier({
      issuers: [{ issuer: ISS, audience: 'api', secret }],
      logger: captureLogger().logger,
    })
    // About 3 KB of token but some 55 KB of heap each: 700 empty objects. Far fewer than the
    // default 10000 such entries fit in TOKEN_CACHE_MAX_BYTES, and heavy entries only get a
    // quarter of it.
    const heavy = (i: number) =>
      signHmac(secret, claims({ jti: String(i), o: Array.from({ length: 700 }, () => ({})) }))
    const tokens = await Promise.all(Array.from({ length: 400 }, (_, i) => heavy(i)))
    expect(400 * 50_000).toBeGreaterThan(TOKEN_CACHE_MAX_BYTES / 4)
    const first = await verifier.verify(tokens[0] as string)
    for (const token of tokens.slice(1)) await verifier.verify(token)
    const last = await verifier.verify(tokens[399] as string)
    expect(signatureChecks).toHaveBeenCalledTimes(400)
    expect(await verifier.verify(tokens[0] as string)).not.toBe(first)
    expect(signatureChecks).toHaveBeenCalledTimes(401)
    expect(await verifier.verify(tokens[399] as string)).toBe(last)
  })

  it('belongs to one verifier: another verifier checks the same token against its own rules', async () => {
    const token = await sign(k1, claims())
    await verifierWith().verify(token)
    const strict = createVerifier({
      issuers: [{ ...staticIssuer(), audience: 'another-api' }],
      logger: captureLogger().logger,
    })
    await expectRejection(strict.verify(token), invalidToken('audience_mismatch'), token)
    expect(signatureChecks).toHaveBeenCalledTimes(2)
  })

  it('still lets the scope guards decide on a cache hit', async () => {
    const verifier = verifierWith()
    const token = await sign(k1, claims({ scope: 'orders:read' }))
    const needsWrite = createGuard(
      { kind: 'scopes', scopes: ['orders:write'], mode: 'all' },
      verifier.errors,
    )
    const needsRead = createGuard(
      { kind: 'scopes', scopes: ['orders:read'], mode: 'all' },
      verifier.errors,
    )
    await verifier.verify(token)
    const hit = await verifier.verify(token)
    expect(signatureChecks).toHaveBeenCalledTimes(1)
    await expect(Promise.resolve().then(() => needsRead(hit))).resolves.toBeUndefined()
    const error = (await Promise.resolve()
      .then(() => needsWrite(hit))
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as AuthErrorShape
    expect({ code: error.code, status: error.status }).toEqual({
      code: 'insufficient_scope',
      status: 403,
    })
    expect(error.headers['WWW-Authenticate']).toContain('scope="orders:write"')
  })
})

describe('the verified-token cache with a JWKS served on 127.0.0.1', () => {
  const REMOTE_CACHE_MAX_AGE = 60_000
  // The key set's max age runs on monotonic time (issue 9, item 11): an injected clock moves it.
  const clock = createTestClock(T0)
  beforeEach(() => {
    clock.at(0)
  })

  async function remoteVerifier(path: string) {
    const issuer = `${server.origin}${path}`
    const verifier = createVerifier(
      withClock(
        {
          issuers: [{ issuer, audience: 'api', jwksUri: `${server.origin}${path}/jwks` }],
          logger: captureLogger().logger,
          jwks: { cacheMaxAge: REMOTE_CACHE_MAX_AGE },
        },
        clock,
      ),
    )
    const signWith = (key: TestKey) => sign(key, { iss: issuer, sub: 'alice', aud: 'api' })
    // A token whose kid is in no set: verifying it waits for the refresh in flight to settle.
    const settle = async () => {
      const unknown = await signWith(stranger)
      await expectRejection(verifier.verify(unknown), invalidToken('unknown_kid'), unknown)
    }
    return { verifier, signWith, settle }
  }

  it('drops an entry when its key leaves the issuer JWKS after a refresh', async () => {
    server.route('/removal/jwks', { kind: 'json', body: jwks(k1, k2) })
    const { verifier, signWith, settle } = await remoteVerifier('/removal')
    const [byK1, byK2] = await Promise.all([signWith(k1), signWith(k2)])
    const p1 = await verifier.verify(byK1)
    await verifier.verify(byK2)
    expect(server.hits('/removal/jwks')).toBe(1)

    server.route('/removal/jwks', { kind: 'json', body: jwks(k2) })
    clock.at(REMOTE_CACHE_MAX_AGE + 1_000)
    // Stale keys keep serving while the refresh they started is in flight.
    expect(await verifier.verify(byK1)).toBe(p1)
    await settle()
    expect(server.hits('/removal/jwks')).toBe(2)

    await expectRejection(verifier.verify(byK1), invalidToken('unknown_kid'), byK1)
    // The honest twin, signed by the key that stayed, is accepted.
    expect((await verifier.verify(byK2)).subject).toBe('alice')
  })

  it('keeps the entries of a key that stays, whether a refresh brings the same set or a new key joins', async () => {
    server.route('/rotation/jwks', { kind: 'json', body: jwks(k1) })
    const { verifier, signWith, settle } = await remoteVerifier('/rotation')
    const token = await signWith(k1)
    const principal = await verifier.verify(token)
    expect(signatureChecks).toHaveBeenCalledTimes(1)

    // A refresh that brings the same keys changes nothing: still a hit.
    clock.at(REMOTE_CACHE_MAX_AGE + 1_000)
    expect(await verifier.verify(token)).toBe(principal)
    await settle()
    expect(server.hits('/rotation/jwks')).toBe(2)
    expect(await verifier.verify(token)).toBe(principal)
    expect(signatureChecks).toHaveBeenCalledTimes(1)

    // A new key joins: the set is replaced, but k1 is the same key, not imported again (issue 9,
    // item 8), so the token is still a hit; a removed key drops its entries (the test above).
    server.route('/rotation/jwks', { kind: 'json', body: jwks(k1, k3) })
    clock.at(2 * (REMOTE_CACHE_MAX_AGE + 1_000))
    expect(await verifier.verify(token)).toBe(principal)
    await settle()
    expect(server.hits('/rotation/jwks')).toBe(3)
    expect(await verifier.verify(token)).toBe(principal)
    expect(signatureChecks).toHaveBeenCalledTimes(1)
  })
})

describe('a cached principal shared between requests (issue 9, item 15)', () => {
  it('does not let one request change what the next one sees: expiresAt, claims, scopes', async () => {
    const verifier = verifierWith()
    const token = await sign(k1, claims({ exp: T0_S + 600, scope: 'read', roles: ['user'] }))
    // Request 1 tries to change its principal every way it can.
    const first = await verifier.verify(token)
    first.expiresAt?.setFullYear(2999)
    expect(() => {
      ;(first.claims.roles as string[]).push('admin')
    }).toThrow(TypeError)
    expect(() => {
      ;(first.scopes as string[]).push('admin')
    }).toThrow(TypeError)
    // Request 2, a cache hit on the same principal, sees none of it.
    const second = await verifier.verify(token)
    expect(second).toBe(first)
    expect(signatureChecks).toHaveBeenCalledTimes(1)
    expect(second.expiresAt?.getTime()).toBe((T0_S + 600) * 1000)
    expect(second.claims.roles).toEqual(['user'])
    expect(second.scopes).toEqual(['read'])
  })
})
