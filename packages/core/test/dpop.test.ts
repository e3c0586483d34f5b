import { createHash } from 'node:crypto'
import { SignJWT, UnsecuredJWT } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { jwkThumbprint } from '../src/dpop-key.js'
import { DPOP_MAX_JTI_LENGTH } from '../src/dpop-proof.js'
import { checkOrigin, normalizeHtu, requestUrl } from '../src/htu.js'
import type { RequestContext } from '../src/log.js'
import type { ReplayStore } from '../src/replay.js'
import { createMemoryReplayStore } from '../src/replay.js'
import { StoreUnavailableError } from '../src/store.js'
import { createVerifier } from '../src/verifier.js'
import type { VerifierOptions } from '../src/verifier-options.js'
import { mintProof, proofJwk, thumbprint } from '../../../test/helpers/dpop.js'
import { createKey, jwks, nowSeconds, sign, type TestKey } from '../../../test/helpers/keys.js'
import { captureLogger } from '../../../test/helpers/log.js'

const ISS = 'https://issuer.test'
const URL_ORDERS = 'https://api.example.test/orders'
const SECRET = 'a-nonce-secret-of-at-least-32-bytes!!'
let issuerKey: TestKey
let clientKey: TestKey
let otherKey: TestKey
let rsaClientKey: TestKey
let jkt: string

beforeAll(async () => {
  issuerKey = await createKey('ES256', { kid: 'issuer' })
  clientKey = await createKey('ES256', { kid: 'client' })
  otherKey = await createKey('ES256', { kid: 'other' })
  rsaClientKey = await createKey('PS256', { kid: 'rsa-client' })
  jkt = await thumbprint(clientKey)
})

/** `null`: a verifier without DPoP. */
function verifierWith(
  dpop: VerifierOptions['dpop'] | null = {},
  extra: Partial<VerifierOptions> = {},
) {
  return createVerifier({
    issuers: [{ issuer: ISS, audience: 'api', keys: jwks(issuerKey) }],
    logger: captureLogger().logger,
    ...(dpop === null ? {} : { dpop }),
    ...extra,
  })
}

function boundToken(key = jkt, claims: Record<string, unknown> = {}): Promise<string> {
  return sign(issuerKey, { iss: ISS, aud: 'api', sub: 'alice', cnf: { jkt: key }, ...claims })
}

/** An `alg: none` proof, otherwise honest, with `signature` as its third part. */
function unsignedProof(token: string, signature: string): Promise<string> {
  const payload = new UnsecuredJWT({
    jti: 'none-1',
    htm: 'GET',
    htu: URL_ORDERS,
    iat: nowSeconds(),
    ath: createHash('sha256').update(token).digest('base64url'),
  })
    .encode()
    .split('.')[1]
  const header = Buffer.from(
    JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk: proofJwk(clientKey) }),
  ).toString('base64url')
  return Promise.resolve(`${header}.${String(payload)}.${signature}`)
}

/** The DPoP-Nonce that a verifier with nonces answers a proof without one with. */
async function nonceFrom(
  verifier: ReturnType<typeof verifierWith>,
  token: string,
): Promise<string> {
  const error = await verifier
    .authenticate(`DPoP ${token}`, context([await mintProof(clientKey, { token })]))
    .catch((e: unknown) => e)
  return (error as { headers: Record<string, string> }).headers['DPoP-Nonce'] as string
}

function context(proofs: string[], method = 'GET', url = URL_ORDERS): RequestContext {
  return { method, url, dpop: proofs }
}

describe('DPoP proofs (RFC 9449 s4.3)', () => {
  it('accepts a DPoP-bound token with its proof, and sets principal.confirmation', async () => {
    const verifier = verifierWith()
    const token = await boundToken()
    const proof = await mintProof(clientKey, { token })
    const principal = await verifier.authenticate(`DPoP ${token}`, context([proof]))
    expect(principal?.subject).toBe('alice')
    expect(principal?.confirmation).toEqual({ jkt })
  })

  it('checks the proof of every request on a cache hit too, synchronously with the memory store', async () => {
    const verifier = verifierWith()
    const token = await boundToken()
    const first = await verifier.authenticate(
      `DPoP ${token}`,
      context([await mintProof(clientKey, { token })]),
    )
    // A fresh proof on the cached token: answered at once, no promise.
    const fresh = await mintProof(clientKey, { token })
    expect(verifier.authenticateCached(`DPoP ${token}`, context([fresh]))).toBe(first)
    // The same proof again: refused, cache hit or not.
    expect(() => verifier.authenticateCached(`DPoP ${token}`, context([fresh]))).toThrow(
      expect.objectContaining({ code: 'invalid_dpop_proof', reason: 'proof_replayed' }),
    )
    // No proof at all on the cached token.
    expect(() => verifier.authenticateCached(`DPoP ${token}`, context([]))).toThrow(
      expect.objectContaining({ code: 'invalid_dpop_proof', reason: 'missing_proof' }),
    )
    // A proof of another key on the cached token.
    const stranger = await mintProof(otherKey, { token })
    expect(() => verifier.authenticateCached(`DPoP ${token}`, context([stranger]))).toThrow(
      expect.objectContaining({ reason: 'proof_key_mismatch' }),
    )
  })

  it('refuses a replayed proof; its honest twin with a new jti passes', async () => {
    const verifier = verifierWith({}, { tokenCache: false })
    const token = await boundToken()
    const proof = await mintProof(clientKey, { token })
    await verifier.authenticate(`DPoP ${token}`, context([proof]))
    await expect(verifier.authenticate(`DPoP ${token}`, context([proof]))).rejects.toMatchObject({
      code: 'invalid_dpop_proof',
      reason: 'proof_replayed',
      status: 401,
    })
    const twin = await mintProof(clientKey, { token })
    await expect(verifier.authenticate(`DPoP ${token}`, context([twin]))).resolves.toBeTruthy()
  })

  it('claims the jti only after every check: a failed proof does not burn it', async () => {
    const verifier = verifierWith()
    const token = await boundToken()
    const wrongUrl = await mintProof(clientKey, {
      token,
      jti: 'j1',
      htu: 'https://api.example.test/x',
    })
    await expect(verifier.authenticate(`DPoP ${token}`, context([wrongUrl]))).rejects.toMatchObject(
      {
        reason: 'proof_htu_mismatch',
      },
    )
    const honest = await mintProof(clientKey, { token, jti: 'j1' })
    await expect(verifier.authenticate(`DPoP ${token}`, context([honest]))).resolves.toBeTruthy()
  })

  it("keys the jti by the proof key: one client cannot burn another client's jti", async () => {
    const verifier = verifierWith()
    const mine = await boundToken()
    const theirs = await boundToken(await thumbprint(otherKey))
    // The other client uses jti "shared" first, with its own key and token.
    await verifier.authenticate(
      `DPoP ${theirs}`,
      context([await mintProof(otherKey, { token: theirs, jti: 'shared' })]),
    )
    const proof = await mintProof(clientKey, { token: mine, jti: 'shared' })
    await expect(verifier.authenticate(`DPoP ${mine}`, context([proof]))).resolves.toBeTruthy()
  })

  it('keeps a jti as long as its proof is acceptable, counted from iat', async () => {
    const claims: { key: string; ttlMs: number }[] = []
    const store: ReplayStore = {
      claim(key, ttlMs) {
        claims.push({ key, ttlMs })
        return true
      },
    }
    const verifier = verifierWith({ replayStore: store, maxProofAge: 60 })
    const token = await boundToken()
    const iat = nowSeconds() - 30
    await verifier.authenticate(
      `DPoP ${token}`,
      context([await mintProof(clientKey, { token, iat })]),
    )
    const [claim] = claims
    // iat + 60 s window + 5 s tolerance - now (30 s ago) = about 35 s, plus a margin of 1 s.
    expect(claim?.ttlMs).toBeGreaterThan(34_000)
    expect(claim?.ttlMs).toBeLessThanOrEqual(37_000)
    // Hashed: neither the jti nor the key is in it, and it has a fixed length.
    expect(claim?.key).toMatch(/^dpop:[A-Za-z0-9_-]{43}$/)
  })

  it('waits for an asynchronous replay store, and never answers a DPoP request from the sync path', async () => {
    const seen = new Set<string>()
    const store: ReplayStore = {
      claim: (key) => Promise.resolve(!seen.has(key) && seen.add(key).has(key)),
    }
    const verifier = verifierWith({ replayStore: store })
    const token = await boundToken()
    const proof = await mintProof(clientKey, { token })
    await verifier.authenticate(`DPoP ${token}`, context([proof]))
    const fresh = await mintProof(clientKey, { token })
    expect(verifier.authenticateCached(`DPoP ${token}`, context([fresh]))).toBeUndefined()
    await expect(verifier.authenticate(`DPoP ${token}`, context([fresh]))).resolves.toBeTruthy()
    await expect(verifier.authenticate(`DPoP ${token}`, context([fresh]))).rejects.toMatchObject({
      reason: 'proof_replayed',
    })
  })

  it('answers 503 store_unavailable when the replay store cannot answer, thrown or rejected', async () => {
    for (const claim of [
      () => {
        throw new StoreUnavailableError('replay store unreachable')
      },
      () => Promise.reject(new StoreUnavailableError('replay store unreachable')),
    ]) {
      const verifier = verifierWith({ replayStore: { claim } })
      const token = await boundToken()
      const proof = await mintProof(clientKey, { token })
      await expect(verifier.authenticate(`DPoP ${token}`, context([proof]))).rejects.toMatchObject({
        code: 'store_unavailable',
        reason: 'replay_unavailable',
        status: 503,
      })
    }
  })

  it('fails closed when the memory replay store is full', async () => {
    const verifier = verifierWith({ replayStore: createMemoryReplayStore({ max: 1 }) })
    const token = await boundToken()
    await verifier.authenticate(`DPoP ${token}`, context([await mintProof(clientKey, { token })]))
    await expect(
      verifier.authenticate(`DPoP ${token}`, context([await mintProof(clientKey, { token })])),
    ).rejects.toMatchObject({ reason: 'proof_replayed' })
  })

  describe('each attack is refused, and its honest twin passes', () => {
    // Every case makes one proof that differs from an honest one in one thing.
    const cases: {
      name: string
      reason: string
      attack: (token: string) => Promise<{ proofs: string[]; method?: string; url?: string }>
    }[] = [
      {
        name: 'a proof for another method',
        reason: 'proof_htm_mismatch',
        attack: async (token) => ({ proofs: [await mintProof(clientKey, { token, htm: 'POST' })] }),
      },
      {
        name: 'a proof for another URL (/a used on /orders)',
        reason: 'proof_htu_mismatch',
        attack: async (token) => ({
          proofs: [await mintProof(clientKey, { token, htu: 'https://api.example.test/a' })],
        }),
      },
      {
        name: 'a proof for another origin',
        reason: 'proof_htu_mismatch',
        attack: async (token) => ({
          proofs: [await mintProof(clientKey, { token, htu: 'https://evil.example/orders' })],
        }),
      },
      {
        name: 'a proof signed by another key (with that key in its header)',
        reason: 'proof_key_mismatch',
        attack: async (token) => ({ proofs: [await mintProof(otherKey, { token })] }),
      },
      {
        name: 'a proof whose header names the bound key but is signed by another',
        reason: 'proof_bad_signature',
        attack: async (token) => ({
          proofs: [await mintProof(otherKey, { token, header: { jwk: proofJwk(clientKey) } })],
        }),
      },
      {
        name: 'a proof with a private jwk',
        reason: 'proof_private_key',
        attack: async (token) => ({
          proofs: [
            await mintProof(clientKey, {
              token,
              header: { jwk: { ...proofJwk(clientKey), d: 'AAAA' } },
            }),
          ],
        }),
      },
      {
        name: 'a proof with a symmetric jwk',
        reason: 'proof_private_key',
        attack: async (token) => ({
          proofs: [
            await mintProof(clientKey, { token, header: { jwk: { kty: 'oct', k: 'AAAA' } } }),
          ],
        }),
      },
      {
        name: 'an unsigned proof (alg none, empty signature)',
        reason: 'malformed_proof',
        attack: async (token) => ({ proofs: [await unsignedProof(token, '')] }),
      },
      {
        name: 'an unsigned proof (alg none, some signature bytes)',
        reason: 'proof_alg_not_allowed',
        attack: async (token) => ({ proofs: [await unsignedProof(token, 'AAAA')] }),
      },
      {
        name: 'an HS256 proof',
        reason: 'proof_alg_not_allowed',
        attack: async (token) => {
          const secret = new TextEncoder().encode('k'.repeat(32))
          const proof = await new SignJWT({
            jti: 'hs-1',
            htm: 'GET',
            htu: URL_ORDERS,
            iat: nowSeconds(),
            ath: createHash('sha256').update(token).digest('base64url'),
          })
            .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: proofJwk(clientKey) })
            .sign(secret)
          return { proofs: [proof] }
        },
      },
      {
        name: 'a proof with typ JWT',
        reason: 'proof_typ_mismatch',
        attack: async (token) => ({
          proofs: [await mintProof(clientKey, { token, header: { typ: 'JWT' } })],
        }),
      },
      {
        name: 'a proof with a wrong ath',
        reason: 'proof_ath_mismatch',
        attack: async () => ({
          proofs: [await mintProof(clientKey, { token: 'another.access.token' })],
        }),
      },
      {
        name: 'a proof without ath',
        reason: 'proof_ath_mismatch',
        attack: async () => ({ proofs: [await mintProof(clientKey)] }),
      },
      {
        name: 'a stale proof (iat 70 s ago, window 60 s + 5 s)',
        reason: 'proof_stale',
        attack: async (token) => ({
          proofs: [await mintProof(clientKey, { token, iat: nowSeconds() - 70 })],
        }),
      },
      {
        name: 'a proof from the future (iat in 10 s, tolerance 5 s)',
        reason: 'proof_in_future',
        attack: async (token) => ({
          proofs: [await mintProof(clientKey, { token, iat: nowSeconds() + 10 })],
        }),
      },
      {
        name: 'two DPoP headers',
        reason: 'multiple_proofs',
        attack: async (token) => ({
          proofs: [await mintProof(clientKey, { token }), await mintProof(clientKey, { token })],
        }),
      },
      {
        name: 'a 1 MB proof',
        reason: 'proof_too_long',
        attack: async (token) => ({
          proofs: [await mintProof(clientKey, { token, claims: { pad: 'x'.repeat(1024 * 1024) } })],
        }),
      },
      {
        name: 'a jti longer than the cap',
        reason: 'proof_jti_invalid',
        attack: async (token) => ({
          proofs: [await mintProof(clientKey, { token, jti: 'j'.repeat(DPOP_MAX_JTI_LENGTH + 1) })],
        }),
      },
      {
        name: 'no proof at all',
        reason: 'missing_proof',
        attack: () => Promise.resolve({ proofs: [] }),
      },
    ]

    for (const { name, reason, attack } of cases) {
      it(`refuses ${name} (${reason})`, async () => {
        const verifier = verifierWith()
        const token = await boundToken()
        const { proofs, method, url } = await attack(token)
        const error = await verifier
          .authenticate(`DPoP ${token}`, context(proofs, method, url))
          .catch((e: unknown) => e)
        expect(error).toMatchObject({ code: 'invalid_dpop_proof', reason, status: 401 })
        const challenge = (error as { headers: Record<string, string> }).headers['WWW-Authenticate']
        // One DPoP challenge, carrying the error, and no token in it.
        expect(challenge).toMatch(
          /^DPoP realm="api", error="invalid_dpop_proof", error_description="[^"]+", algs="ES256 /,
        )
        expect(challenge).not.toContain(token)
        const twin = await mintProof(clientKey, { token })
        await expect(
          verifier.authenticate(`DPoP ${token}`, context([twin])),
        ).resolves.toMatchObject({
          subject: 'alice',
        })
      })
    }

    it('accepts an RSA (PS256) proof key too', async () => {
      const verifier = verifierWith()
      const token = await boundToken(await thumbprint(rsaClientKey))
      const proof = await mintProof(rsaClientKey, { token })
      await expect(verifier.authenticate(`DPoP ${token}`, context([proof]))).resolves.toBeTruthy()
    })
  })

  describe('no downgrade', () => {
    it('refuses a DPoP-bound token sent as Bearer, with DPoP on or off; a plain token passes', async () => {
      for (const verifier of [verifierWith(), verifierWith(null)]) {
        const token = await boundToken()
        await expect(verifier.authenticate(`Bearer ${token}`)).rejects.toMatchObject({
          code: 'invalid_token',
          reason: 'dpop_bound_token',
        })
        // Cached too: the token is verified once through the DPoP path, then sent as Bearer.
        const plain = await sign(issuerKey, { iss: ISS, aud: 'api', sub: 'bob' })
        await expect(verifier.authenticate(`Bearer ${plain}`)).resolves.toMatchObject({
          subject: 'bob',
          confirmation: undefined,
        })
      }
      const verifier = verifierWith()
      const token = await boundToken()
      await verifier.authenticate(`DPoP ${token}`, context([await mintProof(clientKey, { token })]))
      expect(() => verifier.authenticateCached(`Bearer ${token}`)).toThrow(
        expect.objectContaining({ reason: 'dpop_bound_token' }),
      )
      await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'dpop_bound_token' })
    })

    it('refuses a malformed cnf rather than reading it as no binding', async () => {
      const verifier = verifierWith(null)
      for (const cnf of ['jkt', { jkt: 42 }]) {
        const token = await sign(issuerKey, { iss: ISS, aud: 'api', sub: 'alice', cnf })
        await expect(verifier.authenticate(`Bearer ${token}`)).rejects.toMatchObject({
          reason: 'invalid_claim',
        })
      }
    })

    it('with dpop.required, refuses a plain bearer token; its DPoP twin passes', async () => {
      const verifier = verifierWith({ required: true })
      const plain = await sign(issuerKey, { iss: ISS, aud: 'api', sub: 'bob' })
      const error = await verifier.authenticate(`Bearer ${plain}`).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'invalid_token', reason: 'dpop_required' })
      // The error goes on the Bearer scheme the client used, and DPoP is offered.
      expect((error as { headers: Record<string, string> }).headers['WWW-Authenticate']).toMatch(
        /^Bearer realm="api", error="invalid_token", error_description="[^"]+", DPoP realm="api", algs="/,
      )
      const token = await boundToken()
      const proof = await mintProof(clientKey, { token })
      await expect(verifier.authenticate(`DPoP ${token}`, context([proof]))).resolves.toBeTruthy()
    })

    it('refuses the DPoP scheme with a token that is not DPoP-bound, on the DPoP scheme', async () => {
      const verifier = verifierWith()
      const plain = await sign(issuerKey, { iss: ISS, aud: 'api', sub: 'bob' })
      const proof = await mintProof(clientKey, { token: plain })
      const error = await verifier
        .authenticate(`DPoP ${plain}`, context([proof]))
        .catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'invalid_token', reason: 'not_dpop_bound' })
      expect((error as { headers: Record<string, string> }).headers['WWW-Authenticate']).toMatch(
        /^DPoP realm="api", error="invalid_token"/,
      )
    })

    it('puts a token failure of a DPoP request on the DPoP scheme', async () => {
      const verifier = verifierWith()
      const expired = await boundToken(jkt, { exp: nowSeconds() - 3600 })
      const proof = await mintProof(clientKey, { token: expired })
      const error = await verifier
        .authenticate(`DPoP ${expired}`, context([proof]))
        .catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'invalid_token', reason: 'expired' })
      expect((error as { headers: Record<string, string> }).headers['WWW-Authenticate']).toMatch(
        /^DPoP realm="api", error="invalid_token", error_description="The token has expired", algs="/,
      )
    })

    it('without dpop, a DPoP scheme carries no bearer token (as any other scheme)', async () => {
      const verifier = verifierWith(null)
      const token = await boundToken()
      await expect(verifier.authenticate(`DPoP ${token}`)).resolves.toBeNull()
      const missing = verifier.errors.missingToken()
      expect(missing.headers['WWW-Authenticate']).toBe('Bearer realm="api"')
    })

    it('offers DPoP in every challenge when it is on', () => {
      const verifier = verifierWith({ algorithms: ['ES256', 'EdDSA'] })
      expect(verifier.errors.missingToken().headers['WWW-Authenticate']).toBe(
        'Bearer realm="api", DPoP realm="api", algs="ES256 EdDSA"',
      )
    })
  })

  describe('server nonces (RFC 9449 s9)', () => {
    it('answers use_dpop_nonce with a DPoP-Nonce header, and accepts the proof that carries it', async () => {
      const verifier = verifierWith({ nonce: { secret: SECRET } })
      const token = await boundToken()
      const error = await verifier
        .authenticate(`DPoP ${token}`, context([await mintProof(clientKey, { token })]))
        .catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'use_dpop_nonce', reason: 'nonce_required', status: 401 })
      const headers = (error as { headers: Record<string, string> }).headers
      const nonce = headers['DPoP-Nonce'] as string
      expect(nonce).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/)
      // A single DPoP challenge, which is what oauth4webapi retries on.
      expect(headers['WWW-Authenticate']).toMatch(/^DPoP realm="api", error="use_dpop_nonce"/)
      expect(headers['WWW-Authenticate']).not.toContain('Bearer')
      const proof = await mintProof(clientKey, { token, nonce })
      await expect(verifier.authenticate(`DPoP ${token}`, context([proof]))).resolves.toBeTruthy()
    })

    it('refuses a forged nonce, and a nonce made under another secret', async () => {
      const verifier = verifierWith({ nonce: { secret: SECRET } })
      const other = verifierWith({ nonce: { secret: 'another-secret-of-at-least-32-bytes!!!' } })
      const token = await boundToken()
      const foreign = await nonceFrom(other, token)
      for (const nonce of ['made-up', foreign]) {
        await expect(
          verifier.authenticate(
            `DPoP ${token}`,
            context([await mintProof(clientKey, { token, nonce })]),
          ),
        ).rejects.toMatchObject({ code: 'use_dpop_nonce', reason: 'nonce_stale' })
      }
    })

    it('shares nonces between instances that share the secret, without shared state', async () => {
      const a = verifierWith({ nonce: { secret: SECRET } })
      const b = verifierWith({ nonce: { secret: SECRET } })
      const token = await boundToken()
      const nonce = await nonceFrom(a, token)
      const proof = await mintProof(clientKey, { token, nonce })
      await expect(b.authenticate(`DPoP ${token}`, context([proof]))).resolves.toBeTruthy()
    })
  })

  it('names the accepted proof algorithms in the protected resource metadata (RFC 9728 s2)', () => {
    const verifier = verifierWith(
      { algorithms: ['ES256', 'EdDSA'] },
      { resourceMetadata: { resource: 'https://api.example.test', authorizationServers: [ISS] } },
    )
    expect(verifier.resourceMetadata?.document.dpop_signing_alg_values_supported).toEqual([
      'ES256',
      'EdDSA',
    ])
    // And the DPoP challenges point to it too.
    expect(verifier.errors.invalidDpopProof('proof_replayed').headers['WWW-Authenticate']).toMatch(
      /^DPoP realm="api", .*, algs="ES256 EdDSA", resource_metadata="https:\/\/api\.example\.test\/\.well-known\/oauth-protected-resource"$/,
    )
  })

  describe('configuration', () => {
    it('refuses bad dpop options at start-up, naming the field', () => {
      const bad: [unknown, RegExp][] = [
        ['yes', /^dpop must be an object/],
        [{ required: 'yes' }, /^dpop.required must be a boolean/],
        [{ algorithms: [] }, /^dpop.algorithms must be a non-empty array/],
        [{ algorithms: ['none'] }, /^dpop.algorithms\[0\] must be an asymmetric algorithm/],
        [{ algorithms: ['HS256'] }, /^dpop.algorithms\[0\] must be an asymmetric algorithm/],
        [{ replayStore: {} }, /^dpop.replayStore must be a ReplayStore/],
        [{ nonce: { secret: 'short' } }, /^dpop.nonce.secret must be at least 32 bytes/],
        [{ nonce: {} }, /^dpop.nonce.secret is required/],
        [{ nonce: { secret: SECRET, required: 1 } }, /^dpop.nonce.required must be a boolean/],
        [{ maxProofAge: 0 }, /^dpop.maxProofAge must be/],
        [{ maxProofLength: 0 }, /^dpop.maxProofLength must be/],
        [{ requried: true }, /^dpop.requried is not an option \(did you mean required\?\)/],
      ]
      for (const [dpop, message] of bad) {
        expect(() => verifierWith(dpop as VerifierOptions['dpop'])).toThrow(
          new RegExp(`^trustgate: ${message.source.slice(1)}`),
        )
      }
    })
  })
})

describe('htu and the request URL', () => {
  it('normalises scheme, host, default port, dot segments and percent-encoding; drops query and fragment', () => {
    const canonical = 'https://api.example.test/a/~b/%2F'
    for (const spelling of [
      'HTTPS://API.Example.TEST:443/a/%7eb/%2f',
      'https://api.example.test/a/./x/../~b/%2F?q=1#frag',
      'https://api.example.test/a/%7Eb/%2F',
    ]) {
      expect(normalizeHtu(spelling)).toBe(canonical)
    }
    expect(normalizeHtu('https://api.example.test/A')).not.toBe(
      normalizeHtu('https://api.example.test/a'),
    )
    expect(normalizeHtu('https://api.example.test:8443/a')).not.toBe(
      normalizeHtu('https://api.example.test/a'),
    )
    for (const bad of ['/relative', 'ftp://api/a', 'https://user:pw@api/a', 42, 'not a url']) {
      expect(normalizeHtu(bad)).toBeUndefined()
    }
  })

  it('builds the request URL from the configured origin and the request line only', () => {
    expect(requestUrl('https://api.example.test', '/orders?x=1')).toBe(
      'https://api.example.test/orders?x=1',
    )
    // A target that looks like a host stays in the path.
    expect(normalizeHtu(requestUrl('https://api.example.test', '//evil.example/a'))).toBe(
      'https://api.example.test//evil.example/a',
    )
    // Not origin form: refused rather than guessed.
    expect(requestUrl('https://api.example.test', 'http://evil.example/a')).toBeUndefined()
    expect(requestUrl('https://api.example.test', '*')).toBeUndefined()
  })

  it('accepts only a bare origin: a Host-like value cannot move a path into the query', () => {
    expect(checkOrigin('https://API.example.test:443/')).toBe('https://api.example.test')
    for (const bad of [
      'https://api.example.test/a?',
      'https://api.example.test/a',
      'https://api.example.test?x',
      'https://api.example.test#a',
      'https://user@api.example.test',
      'api.example.test',
      'ftp://api.example.test',
    ]) {
      expect(checkOrigin(bad)).toBeUndefined()
    }
  })

  it('computes RFC 7638 thumbprints (the RFC 7638 s3.1 example)', () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    }
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
    expect(jwkThumbprint({ kty: 'oct', k: 'x' })).toBeUndefined()
  })
})
