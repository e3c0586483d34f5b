/**
 * The plugin's part of DPoP: it hands the core the method, the URL from `origin` and every DPoP
 * header, on the synchronous cached path too, and answers with the core's challenge and headers.
 * Through `inject()`, so that header sizes Node's parser would refuse still reach the plugin.
 */
import Fastify from 'fastify'
import { beforeAll, describe, expect, it } from 'vitest'
import { jwtAuth } from '../src/index.js'
import { mintProof, thumbprint } from '../../../test/helpers/dpop.js'
import { createKey, jwks, sign, type TestKey } from '../../../test/helpers/keys.js'
import { captureLogger } from '../../../test/helpers/log.js'

const ISSUER = 'https://issuer.test'
const ORIGIN = 'https://api.example.test'
let issuerKey: TestKey
let clientKey: TestKey
let token: string

beforeAll(async () => {
  issuerKey = await createKey('ES256')
  clientKey = await createKey('ES256')
  token = await sign(issuerKey, {
    iss: ISSUER,
    aud: 'api',
    sub: 'svc',
    cnf: { jkt: await thumbprint(clientKey) },
  })
})

async function app() {
  const instance = Fastify({ loggerInstance: captureLogger().logger })
  await instance.register(jwtAuth, {
    issuers: [{ issuer: ISSUER, audience: 'api', keys: jwks(issuerKey) }],
    origin: ORIGIN,
    dpop: {},
  })
  instance.get('/orders', async (request) => ({ key: request.principal?.key ?? null }))
  instance.post('/orders', async (request) => ({ key: request.principal?.key ?? null }))
  return instance
}

describe('@trustgate/fastify with dpop', () => {
  it('refuses dpop without origin, and an origin that is not one, at registration', async () => {
    const bare = Fastify()
    await expect(
      bare.register(jwtAuth, {
        issuers: [{ issuer: ISSUER, audience: 'api', keys: jwks(issuerKey) }],
        dpop: {},
      }),
    ).rejects.toThrow(/^trustgate: origin is required with dpop/)
    const pathy = Fastify()
    await expect(
      pathy.register(jwtAuth, {
        issuers: [{ issuer: ISSUER, audience: 'api', keys: jwks(issuerKey) }],
        origin: 'https://api.example.test/v1?',
      }),
    ).rejects.toThrow(/^trustgate: origin must be an origin/)
  })

  it('accepts a proof, cached or not, and refuses its replay on the cached path', async () => {
    const server = await app()
    const proof = await mintProof(clientKey, { token, htu: `${ORIGIN}/orders` })
    const send = (dpop: string | string[]) =>
      server.inject({ url: '/orders?page=2', headers: { authorization: `DPoP ${token}`, dpop } })
    expect((await send(proof)).statusCode).toBe(200)
    expect(
      (await send(await mintProof(clientKey, { token, htu: `${ORIGIN}/orders` }))).statusCode,
    ).toBe(200)
    const replay = await send(proof)
    expect(replay.statusCode).toBe(401)
    expect(replay.headers['www-authenticate']).toMatch(
      /^DPoP realm="api", error="invalid_dpop_proof"/,
    )
  })

  it('refuses a proof for GET on POST, and a 1 MB proof; the honest twins pass', async () => {
    const server = await app()
    const htu = `${ORIGIN}/orders`
    const post = (dpop: string) =>
      server.inject({
        method: 'POST',
        url: '/orders',
        headers: { authorization: `DPoP ${token}`, dpop },
      })
    expect((await post(await mintProof(clientKey, { token, htu }))).json()).toMatchObject({
      error_description: 'The DPoP proof is not for this HTTP method',
    })
    expect((await post(await mintProof(clientKey, { token, htu, htm: 'POST' }))).statusCode).toBe(
      200,
    )
    const huge = await mintProof(clientKey, {
      token,
      htu,
      claims: { pad: 'x'.repeat(1024 * 1024) },
    })
    const response = await server.inject({
      url: '/orders',
      headers: { authorization: `DPoP ${token}`, dpop: huge },
    })
    expect(response.statusCode).toBe(401)
    expect(response.json()).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'The DPoP proof is too long',
    })
  })
})
