/**
 * The README's health and readiness examples (Kubernetes probes), run as written:
 * `readme-probes-fastify.ts` and `readme-probes-express.ts` are pasted verbatim into the README.
 * Start-up waits for the keys, readiness follows health(), and liveness never looks at the IdP.
 */
import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKey, jwks } from '../helpers/keys.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { createApp as createExpressApp } from './readme-probes-express.js'
import { createApp as createFastifyApp } from './readme-probes-fastify.js'

const ISSUER = 'https://auth.example.com'

let idp: TestServer
const closers: (() => Promise<unknown>)[] = []

beforeAll(async () => {
  idp = await startServer()
  idp.route('/jwks', { kind: 'json', body: jwks(await createKey('ES256')) })
})

afterAll(async () => {
  await Promise.all(closers.map((close) => close()))
  await idp.close()
})

function issuers(path = '/jwks') {
  return [{ issuer: ISSUER, audience: 'https://api.example.com', jwksUri: `${idp.origin}${path}` }]
}

async function listenFastify(path?: string): Promise<string> {
  const app = await createFastifyApp(issuers(path))
  closers.push(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${String((app.server.address() as AddressInfo).port)}`
}

async function listenExpress(path?: string): Promise<string> {
  const app = await createExpressApp(issuers(path))
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  closers.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(resolve)
      }),
  )
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`
}

describe.each([
  ['fastify', listenFastify],
  ['express', listenExpress],
])('the %s probes example', (_name, listen) => {
  it('starts once the keys are loaded, then is live and ready', async () => {
    idp.resetHits()
    const origin = await listen()
    expect(idp.hits('/jwks')).toBe(1)
    expect((await fetch(`${origin}/livez`)).status).toBe(200)
    const ready = await fetch(`${origin}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({
      ready: true,
      issuers: [{ issuer: ISSUER, state: 'fresh', keys: 1, lastError: null }],
    })
  })

  it('refuses to start when the IdP has no keys to give, naming the issuer', async () => {
    await expect(listen('/missing')).rejects.toThrow(`the keys of "${ISSUER}" could not be loaded`)
  })
})

describe('README', () => {
  it.each(['fastify', 'express'])(
    'shows the %s probes example exactly as this test runs it',
    (name) => {
      const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
      const code = readFileSync(new URL(`./readme-probes-${name}.ts`, import.meta.url), 'utf8')
      expect(readme).toContain('```ts\n' + code + '```')
    },
  )
})
