/**
 * The README's framework examples, run as written: `readme-fastify.ts` and `readme-express.ts`
 * are pasted verbatim into the README, and here they serve a real 127.0.0.1 port, verifying real
 * tokens against a real JWKS server, through the built packages (`@trustgate/*` from dist/).
 */
import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKey, jwks, sign, type TestKey } from '../helpers/keys.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { createApp as createExpressApp } from './readme-express.js'
import { createApp as createFastifyApp } from './readme-fastify.js'

const ISSUER = 'https://auth.example.com'
const AUDIENCE = 'https://api.example.com'

let idp: TestServer
let key: TestKey
const closers: (() => Promise<unknown>)[] = []

beforeAll(async () => {
  key = await createKey('RS256')
  idp = await startServer()
  idp.route('/.well-known/jwks.json', { kind: 'json', body: jwks(key) })
})

afterAll(async () => {
  await Promise.all(closers.map((close) => close()))
  await idp.close()
})

function issuers() {
  return [{ issuer: ISSUER, audience: AUDIENCE, jwksUri: `${idp.origin}/.well-known/jwks.json` }]
}

async function token(claims: Record<string, unknown> = {}, signer = key): Promise<string> {
  return sign(signer, { iss: ISSUER, aud: AUDIENCE, sub: 'alice', ...claims })
}

async function call(origin: string, path: string, jwt?: string) {
  const response = await fetch(`${origin}${path}`, {
    headers: jwt === undefined ? {} : { authorization: `Bearer ${jwt}` },
  })
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    text: await response.text(),
  }
}

/** What both examples must do, the same way. */
function behavesAsDocumented(start: () => Promise<string>, jsonErrors: boolean): void {
  let origin: string
  beforeAll(async () => {
    origin = await start()
  })

  it('serves the public route with and without a token', async () => {
    expect(JSON.parse((await call(origin, '/public')).text)).toEqual({ who: null })
    const signedIn = await call(origin, '/public', await token())
    expect(JSON.parse(signedIn.text)).toEqual({ who: `${ISSUER}|alice` })
  })

  it('guards /me: 401 missing_token without a token, 200 with one', async () => {
    const none = await call(origin, '/me')
    expect([none.status, none.challenge]).toEqual([401, 'Bearer realm="api"'])
    if (jsonErrors) {
      expect(JSON.parse(none.text)).toEqual({
        error: 'missing_token',
        error_description: 'Authentication is required',
      })
    }
    const me = await call(origin, '/me', await token())
    expect([me.status, JSON.parse(me.text)]).toEqual([200, { key: `${ISSUER}|alice` }])
  })

  it('guards /orders by scope: 403 without orders:read, 200 with it', async () => {
    const jwt = await token({ scope: 'profile' })
    const refused = await call(origin, '/orders', jwt)
    expect(refused.status).toBe(403)
    expect(refused.challenge).toContain('error="insufficient_scope"')
    expect(refused.challenge).toContain('scope="orders:read"')
    expect(refused.text).not.toContain(jwt)
    const allowed = await call(origin, '/orders', await token({ scope: 'profile orders:read' }))
    expect([allowed.status, JSON.parse(allowed.text)]).toEqual([200, { orders: [] }])
  })

  it('refuses a forged token with 401 invalid_token, even on the public route', async () => {
    const forged = await token({}, await createKey('RS256', { kid: key.kid }))
    const answer = await call(origin, '/public', forged)
    expect(answer.status).toBe(401)
    expect(answer.challenge).toContain('error="invalid_token"')
    expect(answer.text).not.toContain(forged)
  })
}

describe('the Fastify example', () => {
  behavesAsDocumented(async () => {
    const app = await createFastifyApp(issuers())
    closers.push(() => app.close())
    return app.listen({ port: 0, host: '127.0.0.1' })
  }, true)
})

describe('the Express example', () => {
  behavesAsDocumented(async () => {
    const server: Server = createExpressApp(issuers()).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    closers.push(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections()
          server.close(resolve)
        }),
    )
    return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`
  }, true)
})

describe('the example files', () => {
  it('stay short enough to read in the README (at most 25 lines each)', () => {
    for (const name of ['readme-fastify.ts', 'readme-express.ts']) {
      const text = readFileSync(new URL(name, import.meta.url), 'utf8')
      expect(text.trimEnd().split('\n').length).toBeLessThanOrEqual(25)
    }
  })
})

describe('README', () => {
  it.each(['fastify', 'express'])('shows the %s example exactly as this test runs it', (name) => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const code = readFileSync(new URL(`./readme-${name}.ts`, import.meta.url), 'utf8')
    expect(readme).toContain('```ts\n' + code + '```')
  })
})
