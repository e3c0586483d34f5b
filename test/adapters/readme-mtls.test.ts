/**
 * The README's mTLS examples, run as written: `readme-mtls-fastify.ts` (the API terminates TLS)
 * and `readme-mtls-express.ts` (behind a proxy that forwards the certificate) are pasted verbatim
 * into the README; here they serve real 127.0.0.1 ports through the built packages, verifying
 * certificate-bound tokens against a real JWKS server.
 */
import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCertificate, type TestCertificate } from '../helpers/certs.js'
import { createKey, jwks, sign, type TestKey } from '../helpers/keys.js'
import { closeServer, send } from '../helpers/mtls.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { createApp as createExpressApp } from './readme-mtls-express.js'
import { createApp as createFastifyApp } from './readme-mtls-fastify.js'

const ISSUER = 'https://auth.example.com'
const AUDIENCE = 'https://api.example.com'

let idp: TestServer
let key: TestKey
let server: TestCertificate
let client: TestCertificate
let thief: TestCertificate

beforeAll(async () => {
  key = await createKey('ES256')
  idp = await startServer()
  idp.route('/.well-known/jwks.json', { kind: 'json', body: jwks(key) })
  server = createCertificate('api')
  client = createCertificate('client')
  thief = createCertificate('thief')
})

afterAll(async () => {
  await idp.close()
})

function issuers() {
  return [{ issuer: ISSUER, audience: AUDIENCE, jwksUri: `${idp.origin}/.well-known/jwks.json` }]
}

function token(cnf?: Record<string, string>): Promise<string> {
  return sign(key, {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'svc',
    ...(cnf === undefined ? {} : { cnf }),
  })
}

describe('the Fastify mTLS example (TLS on the API)', () => {
  let origin: string
  let close: () => Promise<void>
  beforeAll(async () => {
    const app = await createFastifyApp(issuers(), { key: server.key, cert: server.cert })
    origin = await app.listen({ port: 0, host: '127.0.0.1' })
    close = () => app.close()
  })
  afterAll(async () => {
    await close()
  })

  const me = async (jwt: string, certificate?: TestCertificate) =>
    send(`${origin}/me`, {
      ca: server.cert,
      certificate,
      headers: { authorization: `Bearer ${jwt}` },
    })

  it('serves a token bound to the certificate of the connection', async () => {
    const bound = await token({ 'x5t#S256': client.thumbprint })
    const answer = await me(bound, client)
    expect([answer.status, answer.json]).toEqual([200, { key: `${ISSUER}|svc` }])
  })

  it('refuses it over another certificate or none, and refuses unbound tokens (required)', async () => {
    const bound = await token({ 'x5t#S256': client.thumbprint })
    expect((await me(bound, thief)).json).toMatchObject({
      error_description: 'The token is bound to another client certificate',
    })
    expect((await me(bound)).status).toBe(401)
    const bearer = await me(await token(), client)
    expect([bearer.status, bearer.json?.error_description]).toEqual([
      401,
      'The token is not bound to a client certificate',
    ])
  })
})

describe('the Express mTLS example (behind nginx)', () => {
  let api: Server
  let origin: string
  beforeAll(async () => {
    // nginx would connect from its own address; here, the test's "nginx" connects from 127.0.0.2.
    api = createExpressApp(issuers(), ['127.0.0.2']).listen(0, '127.0.0.1')
    await new Promise((resolve) => api.once('listening', resolve))
    origin = `http://127.0.0.1:${String((api.address() as AddressInfo).port)}`
  })
  afterAll(async () => {
    await closeServer(api)
  })

  const me = (jwt: string, from: string) =>
    send(`${origin}/me`, {
      localAddress: from,
      headers: {
        authorization: `Bearer ${jwt}`,
        'x-ssl-client-cert': encodeURIComponent(client.cert),
      },
    })

  it("reads nginx's header from nginx's address", async () => {
    const bound = await token({ 'x5t#S256': client.thumbprint })
    const answer = await me(bound, '127.0.0.2')
    expect([answer.status, answer.json]).toEqual([200, { key: `${ISSUER}|svc` }])
  })

  it('ignores the same header from anywhere else', async () => {
    const bound = await token({ 'x5t#S256': client.thumbprint })
    const answer = await me(bound, '127.0.0.1')
    expect(answer.status).toBe(401)
    expect(answer.headers['www-authenticate']).toContain('error="invalid_token"')
  })
})

describe('README', () => {
  it.each(['fastify', 'express'])(
    'shows the %s mTLS example exactly as this test runs it',
    (name) => {
      const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
      const code = readFileSync(new URL(`./readme-mtls-${name}.ts`, import.meta.url), 'utf8')
      expect(readme).toContain('```ts\n' + code + '```')
    },
  )
})
