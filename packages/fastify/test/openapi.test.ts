/**
 * OpenAPI with the real @fastify/swagger: guarded routes carry their security requirement and
 * their 401/403 responses in the generated document, with nothing written by hand.
 */
import fastifyAuth from '@fastify/auth'
import fastifySwagger from '@fastify/swagger'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  authenticate,
  jwtAuth,
  requireAnyScope,
  requirePrincipal,
  requireScopes,
  type FastifyJwtAuthOptions,
} from '../src/index.js'
import { createKey, jwks, sign, type TestKey } from '../../../test/helpers/keys.js'

let key: TestKey
const apps: FastifyInstance[] = []

beforeAll(async () => {
  key = await createKey('ES256')
})

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()))
})

type Doc = {
  paths: Record<string, Record<string, { security?: unknown; responses?: Record<string, unknown> }>>
  components: { securitySchemes?: Record<string, unknown> }
}

async function createApp(extra: Partial<FastifyJwtAuthOptions> = {}): Promise<FastifyInstance> {
  const app = Fastify()
  apps.push(app)
  await app.register(fastifySwagger, { openapi: { info: { title: 'orders', version: '1' } } })
  await app.register(fastifyAuth)
  await app.register(jwtAuth, {
    issuers: [{ issuer: 'https://issuer.test', audience: 'api', keys: jwks(key) }],
    ...extra,
  })
  const ok = { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } }
  app.get('/public', { schema: { response: ok } }, async () => ({ ok: true }))
  app.get('/me', { preHandler: authenticate }, async () => ({ ok: true }))
  app.get(
    '/orders',
    { preHandler: [authenticate, requireScopes('orders:read')], schema: { response: ok } },
    async () => ({ ok: true }),
  )
  app.post(
    '/orders/:id',
    { preHandler: [requireScopes('orders:write'), requireAnyScope('admin', 'clerk')] },
    async () => ({ ok: true }),
  )
  app.get('/acme', { onRequest: requirePrincipal(() => true) }, async () => ({ ok: true }))
  app.get('/decorated', { preHandler: app.requireScopes('x') }, async () => ({ ok: true }))
  await app.ready()
  return app
}

const unauthorized = {
  description: 'No bearer token, or one that failed verification',
  headers: {
    'WWW-Authenticate': { description: 'The RFC 6750 challenge', schema: { type: 'string' } },
  },
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          error: { type: 'string', description: 'The RFC 6750 error code, or missing_token' },
          error_description: { type: 'string' },
        },
        required: ['error', 'error_description'],
      },
    },
  },
}

describe('the generated OpenAPI document', () => {
  it('carries security and 401/403 for guarded routes, and the bearer scheme', async () => {
    const app = await createApp()
    const doc = app.swagger() as unknown as Doc
    expect(doc.components.securitySchemes).toEqual({
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    })
    const me = doc.paths['/me']?.get
    expect(me?.security).toEqual([{ bearerAuth: [] }])
    expect(me?.responses).toMatchObject({ 401: unauthorized })
    expect(me?.responses).not.toHaveProperty('403')
    const orders = doc.paths['/orders']?.get
    expect(orders?.security).toEqual([{ bearerAuth: ['orders:read'] }])
    expect(Object.keys(orders?.responses as object).sort()).toEqual(['200', '401', '403'])
    // requireScopes and requireAnyScope together: one alternative per scope of the "any" list.
    expect(doc.paths['/orders/{id}']?.post?.security).toEqual([
      { bearerAuth: ['orders:write', 'admin'] },
      { bearerAuth: ['orders:write', 'clerk'] },
    ])
    expect(doc.paths['/acme']?.get?.responses).toHaveProperty('403')
    expect(doc.paths['/decorated']?.get?.security).toEqual([{ bearerAuth: ['x'] }])
    // Public routes are left as they were, and no marker is left anywhere.
    expect(doc.paths['/public']?.get).not.toHaveProperty('security')
    expect(Object.keys(doc.paths['/public']?.get?.responses as object)).toEqual(['200'])
    expect(JSON.stringify(doc)).not.toContain('x-trustgate')
    // The same document on every call, and in the YAML form.
    expect(app.swagger()).toBe(doc)
    expect(JSON.parse(app.swagger({ yaml: true }))).toEqual(doc)
  })

  it('leaves the responses the app sends unchanged: the 401 body is still trustgate’s', async () => {
    const app = await createApp()
    const refused = await app.inject({ url: '/orders' })
    expect([refused.statusCode, refused.json()]).toEqual([
      401,
      { error: 'missing_token', error_description: 'Authentication is required' },
    ])
    const jwt = await sign(key, {
      iss: 'https://issuer.test',
      aud: 'api',
      sub: 'a',
      scope: 'orders:read',
    })
    const allowed = await app.inject({
      url: '/orders',
      headers: { authorization: `Bearer ${jwt}` },
    })
    expect(allowed.json()).toEqual({ ok: true })
  })

  it('with respond: false documents the status but not a body it does not send', async () => {
    const app = await createApp({ respond: false })
    const doc = app.swagger() as unknown as Doc
    expect(doc.paths['/me']?.get?.responses).toMatchObject({
      401: { description: 'No bearer token, or one that failed verification' },
    })
    expect(doc.paths['/me']?.get?.responses?.['401']).not.toHaveProperty('content')
  })

  it('without @fastify/swagger, touches no route schema', async () => {
    const app = Fastify()
    apps.push(app)
    await app.register(jwtAuth, {
      issuers: [{ issuer: 'https://issuer.test', audience: 'api', keys: jwks(key) }],
    })
    const seen: unknown[] = []
    app.addHook('onRoute', (route) => {
      seen.push(route)
    })
    app.get('/me', { preHandler: authenticate }, async () => ({ ok: true }))
    await app.ready()
    expect(
      JSON.stringify(seen.map((route) => (route as { schema?: unknown }).schema)),
    ).not.toContain('x-trustgate')
  })
})
