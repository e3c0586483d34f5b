/**
 * RFC 9728 through both adapters, from the built packages: the document at its well-known path
 * (public even with `required: true`), and `resource_metadata` in their 401 challenges.
 */
import express from 'express'
import Fastify from 'fastify'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { jwtAuth as expressAuth, requireAuth } from '@trustgate/express'
import { jwtAuth as fastifyAuth, authenticate } from '@trustgate/fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKey, jwks, type TestKey } from '../helpers/keys.js'

const RESOURCE = 'http://127.0.0.1/orders'
const WELL_KNOWN = '/.well-known/oauth-protected-resource/orders'
const URL_ = `http://127.0.0.1${WELL_KNOWN}`
const DOCUMENT = {
  resource: RESOURCE,
  authorization_servers: ['https://as1.example.com'],
  scopes_supported: ['orders:read'],
  bearer_methods_supported: ['header'],
}

let key: TestKey
const closers: (() => Promise<unknown>)[] = []

beforeAll(async () => {
  key = await createKey('ES256')
})

afterAll(async () => {
  await Promise.all(closers.map((close) => close()))
})

function options() {
  return {
    issuers: [{ issuer: 'https://as1.example.com', audience: 'api', keys: jwks(key) }],
    required: true,
    resourceMetadata: {
      resource: RESOURCE,
      authorizationServers: ['https://as1.example.com'],
      scopesSupported: ['orders:read'],
    },
  }
}

async function check(origin: string): Promise<void> {
  const document = await fetch(`${origin}${WELL_KNOWN}`)
  expect(document.status).toBe(200)
  expect(document.headers.get('content-type')).toMatch(/^application\/json/)
  expect(await document.json()).toEqual(DOCUMENT)
  const refused = await fetch(`${origin}/orders`)
  expect(refused.status).toBe(401)
  expect(refused.headers.get('www-authenticate')).toBe(
    `Bearer realm="api", resource_metadata="${URL_}"`,
  )
  const bad = await fetch(`${origin}/orders`, { headers: { authorization: 'Bearer a.b.c' } })
  expect(bad.headers.get('www-authenticate')).toContain(`, resource_metadata="${URL_}"`)
}

describe('protected resource metadata', () => {
  it('Fastify serves the document and names it in its 401 challenges', async () => {
    const app = Fastify()
    closers.push(() => app.close())
    await app.register(fastifyAuth, options())
    app.get('/orders', { preHandler: authenticate }, async () => ({ orders: [] }))
    await check(await app.listen({ port: 0, host: '127.0.0.1' }))
  })

  it('Fastify refuses it in a prefixed context, saying what to do', async () => {
    const app = Fastify()
    closers.push(() => app.close())
    await expect(
      app.register(
        async (child) => {
          await child.register(fastifyAuth, options())
        },
        { prefix: '/api' },
      ),
    ).rejects.toThrow(/^trustgate: resourceMetadata is served at .*unprefixed context/)
  })

  it('Express serves the document and names it in its 401 challenges', async () => {
    const app = express()
    app.use(expressAuth({ ...options(), respond: true }))
    app.get('/orders', requireAuth(), (_req, res) => {
      res.json({ orders: [] })
    })
    const server: Server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    closers.push(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections()
          server.close(resolve)
        }),
    )
    await check(`http://127.0.0.1:${String((server.address() as AddressInfo).port)}`)
  })
})
