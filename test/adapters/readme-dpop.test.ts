/**
 * The README's DPoP examples, run as written: `readme-dpop-fastify.ts` and `readme-dpop-express.ts`
 * are pasted verbatim into the README, and serve real requests here, through the built packages,
 * with proofs minted in the test (the oauth4webapi ones are in test/e2e/dpop.test.ts).
 */
import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mintProof, thumbprint } from '../helpers/dpop.js'
import { createKey, jwks, sign, type TestKey } from '../helpers/keys.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { createApp as createExpressApp } from './readme-dpop-express.js'
import { createApp as createFastifyApp } from './readme-dpop-fastify.js'

const ISSUER = 'https://auth.example.com'
const AUDIENCE = 'https://api.example.com'
const NONCE_SECRET = 'a-secret-of-32-bytes-or-more-for-nonces'

let idp: TestServer
let key: TestKey
let clientKey: TestKey
let token: string

beforeAll(async () => {
  key = await createKey('ES256')
  clientKey = await createKey('ES256')
  idp = await startServer()
  idp.route('/.well-known/jwks.json', { kind: 'json', body: jwks(key) })
  token = await sign(key, {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'svc',
    cnf: { jkt: await thumbprint(clientKey) },
  })
})

afterAll(async () => {
  await idp.close()
})

function issuers() {
  return [{ issuer: ISSUER, audience: AUDIENCE, jwksUri: `${idp.origin}/.well-known/jwks.json` }]
}

describe('the Fastify DPoP example (required, with nonces)', () => {
  it('asks for a nonce, accepts the proof that carries it, refuses its replay and plain Bearer', async () => {
    const app = await createFastifyApp(issuers(), NONCE_SECRET)
    const send = (proof: string, scheme = 'DPoP') =>
      app.inject({ url: '/me', headers: { authorization: `${scheme} ${token}`, dpop: proof } })
    const htu = 'https://api.example.com/me'
    const first = await send(await mintProof(clientKey, { token, htu }))
    expect(first.statusCode).toBe(401)
    expect(first.json()).toMatchObject({ error: 'use_dpop_nonce' })
    const nonce = first.headers['dpop-nonce'] as string
    const proof = await mintProof(clientKey, { token, htu, nonce })
    expect((await send(proof)).statusCode).toBe(200)
    expect((await send(proof)).json()).toMatchObject({ error: 'invalid_dpop_proof' })
    const bearer = await send(await mintProof(clientKey, { token, htu, nonce }), 'Bearer')
    expect(bearer.statusCode).toBe(401)
    expect(bearer.json()).toMatchObject({ error: 'invalid_token' })
    await app.close()
  })
})

describe('the Express DPoP example (public host from the proxy)', () => {
  let server: Server
  let origin: string
  beforeAll(async () => {
    server = await new Promise<Server>((resolve) => {
      const listening = createExpressApp(issuers()).listen(0, '127.0.0.1', () => {
        resolve(listening)
      })
    })
    origin = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
  })

  it('checks htu against the public host the proxy names, never against Host', async () => {
    const call = async (htu: string, publicHost?: string) => {
      const proof = await mintProof(clientKey, { token, htu })
      const response = await fetch(`${origin}/me`, {
        headers: {
          authorization: `DPoP ${token}`,
          dpop: proof,
          ...(publicHost === undefined ? {} : { 'x-public-host': publicHost }),
        },
      })
      return response.status
    }
    expect(await call('https://api.example.eu/me', 'api.example.eu')).toBe(200)
    expect(await call('https://api.example.com/me')).toBe(200)
    // A proof for another host, or a host the proxy does not serve: refused.
    expect(await call('https://api.example.eu/me', 'api.example.com')).toBe(401)
    expect(await call('https://evil.example/me', 'evil.example')).toBe(401)
  })
})

describe('README', () => {
  it.each(['fastify', 'express'])(
    'shows the %s DPoP example exactly as this test runs it',
    (name) => {
      const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
      const code = readFileSync(new URL(`./readme-dpop-${name}.ts`, import.meta.url), 'utf8')
      expect(readme).toContain('```ts\n' + code + '```')
    },
  )
})
