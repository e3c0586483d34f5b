import { beforeAll, describe, expect, it, vi } from 'vitest'
import { createVerifier } from '../src/verifier.js'
import { createKey, jwks, sign, type TestKey } from '../../../test/helpers/keys.js'
import { captureLogger } from '../../../test/helpers/log.js'
import { startServer } from '../../../test/helpers/server.js'

const ISS = 'https://static.test'
let key: TestKey

beforeAll(async () => {
  key = await createKey('ES256', { kid: 'k1' })
})

function verifierWith(tokenCache?: false) {
  return createVerifier({
    issuers: [{ issuer: ISS, audience: 'api', keys: jwks(key) }],
    logger: captureLogger().logger,
    ...(tokenCache === false ? { tokenCache } : {}),
  })
}

describe('authenticateCached, the synchronous fast path of the adapters', () => {
  it('answers null at once for a request without a bearer token', () => {
    const verifier = verifierWith()
    expect(verifier.authenticateCached(undefined)).toBeNull()
    expect(verifier.authenticateCached([])).toBeNull()
    expect(verifier.authenticateCached('Basic dXNlcjpwYXNz')).toBeNull()
  })

  it('throws invalid_request for a malformed header, as authenticate rejects', () => {
    const verifier = verifierWith()
    expect(() => verifier.authenticateCached(['Bearer a.b.c', 'Bearer d.e.f'])).toThrow(
      expect.objectContaining({
        code: 'invalid_request',
        reason: 'multiple_authorization_headers',
      }),
    )
    expect(() => verifier.authenticateCached('Bearer a b')).toThrow(
      expect.objectContaining({ code: 'invalid_request' }),
    )
  })

  it('returns undefined for a token it has not verified, and the principal once it has', async () => {
    const verifier = verifierWith()
    const token = await sign(key, { iss: ISS, aud: 'api', sub: 'alice' })
    expect(verifier.authenticateCached(`Bearer ${token}`)).toBeUndefined()
    const principal = await verifier.authenticate(`Bearer ${token}`)
    expect(verifier.authenticateCached(`Bearer ${token}`)).toBe(principal)
    // Any spelling of the scheme reaches the same entry through the full header parse.
    expect(verifier.authenticateCached([`bearer ${token}`])).toBe(principal)
  })

  it('never answers for a token that failed, nor with the cache off', async () => {
    const cached = verifierWith()
    const forged = `${(await sign(key, { iss: ISS, aud: 'api', sub: 'alice' })).slice(0, -4)}AAAA`
    await expect(cached.verify(forged)).rejects.toMatchObject({ reason: 'bad_signature' })
    expect(cached.authenticateCached(`Bearer ${forged}`)).toBeUndefined()

    const uncached = verifierWith(false)
    const token = await sign(key, { iss: ISS, aud: 'api', sub: 'alice' })
    await uncached.verify(token)
    expect(uncached.authenticateCached(`Bearer ${token}`)).toBeUndefined()
  })

  it('stops answering for a cached token once it has expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const T = Date.UTC(2030, 0, 1)
      vi.setSystemTime(T)
      const verifier = verifierWith()
      const exp = T / 1000 + 60
      const token = await sign(key, { iss: ISS, aud: 'api', sub: 'alice', iat: T / 1000, exp })
      await verifier.verify(token)
      expect(verifier.authenticateCached(`Bearer ${token}`)).toBeDefined()
      vi.setSystemTime((exp + 5) * 1000) // exp + clockTolerance
      expect(verifier.authenticateCached(`Bearer ${token}`)).toBeUndefined()
      await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'expired' })
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('authenticateNow, the adapters’ one call per request', () => {
  it('answers null at once without a bearer token, and throws invalid_request at once', () => {
    const verifier = verifierWith(false)
    expect(verifier.authenticateNow(undefined)).toBeNull()
    expect(verifier.authenticateNow('Basic dXNlcjpwYXNz')).toBeNull()
    expect(() => verifier.authenticateNow(['Bearer a.b.c', 'Bearer d.e.f'])).toThrow(
      expect.objectContaining({ code: 'invalid_request' }),
    )
  })

  it('verifies a new token at once when its keys are at hand, with the cache off too', async () => {
    const verifier = verifierWith(false)
    const token = await sign(key, { iss: ISS, aud: 'api', sub: 'alice' })
    const principal = verifier.authenticateNow(`Bearer ${token}`)
    expect(principal).not.toBeInstanceOf(Promise)
    expect(principal).toMatchObject({ issuer: ISS, subject: 'alice' })
    // authenticate gives the same principal, as a promise.
    await expect(verifier.authenticate(`Bearer ${token}`)).resolves.toEqual(principal)
  })

  it('throws each refusal at once, with its reason, where authenticate rejects with it', async () => {
    const verifier = verifierWith(false)
    const honest = await sign(key, { iss: ISS, aud: 'api', sub: 'alice' })
    const forged = `${honest.slice(0, -4)}AAAA`
    expect(() => verifier.authenticateNow(`Bearer ${forged}`)).toThrow(
      expect.objectContaining({ code: 'invalid_token', reason: 'bad_signature' }),
    )
    await expect(verifier.authenticate(`Bearer ${forged}`)).rejects.toMatchObject({
      reason: 'bad_signature',
    })
    const other = await sign(key, { iss: 'https://other.test', aud: 'api', sub: 'alice' })
    expect(() => verifier.authenticateNow(`Bearer ${other}`)).toThrow(
      expect.objectContaining({ reason: 'untrusted_issuer' }),
    )
    expect(verifier.authenticateNow(`Bearer ${honest}`)).toMatchObject({ subject: 'alice' })
  })

  it('refuses a token outside the b64token syntax as invalid_request, before every later step', async () => {
    const verifier = createVerifier({
      issuers: [{ issuer: ISS, audience: 'api', keys: jwks(key) }],
      logger: captureLogger().logger,
      maxTokenLength: 64,
    })
    const malformedHeader = expect.objectContaining({
      code: 'invalid_request',
      reason: 'malformed_authorization_header',
    })
    // Not b64token, and also: too long, not three parts, a cache miss.
    for (const token of ['a!b.c.d', `${'a'.repeat(80)}!`, 'a.b.c d', 'é.b.c', '']) {
      expect(() => verifier.authenticateNow(`Bearer ${token}`)).toThrow(malformedHeader)
      await expect(verifier.authenticate(`Bearer ${token}`)).rejects.toMatchObject({
        code: 'invalid_request',
      })
    }
    // b64token but no JWS (padding, `~`, too long): the token is what is malformed.
    for (const token of ['a.b.c=', 'a~.b.c', 'a'.repeat(80)]) {
      expect(() => verifier.authenticateNow(`Bearer ${token}`)).toThrow(
        expect.objectContaining({ code: 'invalid_token', reason: 'malformed' }),
      )
    }
  })

  it('hands back a promise when the keys must be fetched first, and refuses nothing early', async () => {
    const server = await startServer()
    try {
      server.route('/jwks', { kind: 'json', body: jwks(key) })
      const verifier = createVerifier({
        issuers: [{ issuer: ISS, audience: 'api', jwksUri: `${server.origin}/jwks` }],
        logger: captureLogger().logger,
        tokenCache: false,
      })
      const token = await sign(key, { iss: ISS, aud: 'api', sub: 'alice' })
      const pending = verifier.authenticateNow(`Bearer ${token}`)
      expect(pending).toBeInstanceOf(Promise)
      await expect(pending).resolves.toMatchObject({ subject: 'alice' })
      // The keys are at hand now: the next token is verified at once.
      expect(verifier.authenticateNow(`Bearer ${token}`)).toMatchObject({ subject: 'alice' })
    } finally {
      await server.close()
    }
  })
})
