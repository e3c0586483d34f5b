/**
 * The guards as imports, failing closed; their composition with @fastify/auth; registrations in
 * nested and sibling contexts; `required` and `skip`; failure paths that never throw.
 */
import fastifyAuth from '@fastify/auth'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as trustgate from '../src/index.js'
import {
  authenticate,
  jwtAuth,
  requireAnyScope,
  requirePrincipal,
  requireScopes,
  type FastifyJwtAuthOptions,
} from '../src/index.js'
import { createKey, sign, type TestKey } from '../../../test/helpers/keys.js'
import { captureLogger } from '../../../test/helpers/log.js'
import { startTestIdp } from '../../../test/helpers/idp.js'
import type { TestServer } from '../../../test/helpers/server.js'

const ISSUER = 'https://issuer.test'
const AUDIENCE = 'https://api.test'
const ADMIN_AUDIENCE = 'https://admin.test'

let idp: TestServer
let key: TestKey
let jwksUri: string
const apps: FastifyInstance[] = []

beforeAll(async () => {
  ;({ idp, key, jwksUri } = await startTestIdp())
})

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()))
  await idp.close()
})

function options(
  audience = AUDIENCE,
  extra: Partial<FastifyJwtAuthOptions> = {},
): FastifyJwtAuthOptions {
  return {
    issuers: [{ issuer: ISSUER, audience, jwksUri }],
    logger: captureLogger().logger,
    ...extra,
  }
}

function token(claims: Record<string, unknown> = {}, signer: TestKey = key): Promise<string> {
  return sign(signer, { iss: ISSUER, aud: AUDIENCE, sub: 'alice', ...claims })
}

function newApp(): FastifyInstance {
  const app = Fastify()
  apps.push(app)
  return app
}

async function get(app: FastifyInstance, url: string, jwt?: string) {
  const response = await app.inject({
    method: 'GET',
    url,
    headers: jwt === undefined ? {} : { authorization: `Bearer ${jwt}` },
  })
  return {
    status: response.statusCode,
    challenge: response.headers['www-authenticate'],
    body: JSON.parse(response.body) as unknown,
  }
}

const MISSING = { error: 'missing_token', error_description: 'Authentication is required' }

describe('guards imported from the package', () => {
  it('answer 500 saying why on a route outside every registration, never letting it through', async () => {
    const app = newApp()
    // The classic mistake: the plugin in a child context, the route on the root instance.
    await app.register(async (child) => {
      await child.register(jwtAuth, options())
    })
    app.get('/open', { preHandler: authenticate }, async () => ({ leaked: true }))
    app.get('/scoped', { preHandler: requireScopes('admin') }, async () => ({ leaked: true }))
    await app.ready()
    for (const url of ['/open', '/scoped']) {
      const answer = await get(app, url, await token({ scope: 'admin' }))
      expect(answer.status).toBe(500)
      expect(JSON.stringify(answer.body)).toContain('@trustgate/fastify is not registered')
      expect(answer.body).not.toMatchObject({ leaked: true })
    }
  })

  it('guard routes of the context where the plugin is registered, as the decorators do', async () => {
    const app = newApp()
    await app.register(jwtAuth, options())
    app.get('/me', { preHandler: authenticate }, async (request) => ({
      key: request.principal?.key,
    }))
    app.get('/orders', { preHandler: [requireScopes('orders:read')] }, async () => ({ ok: 1 }))
    app.get('/any', { onRequest: requireAnyScope('a', 'orders:read') }, async () => ({ ok: 1 }))
    app.get(
      '/acme',
      { preHandler: requirePrincipal((p) => p.claims.tenant === 'acme') },
      async () => ({ ok: 1 }),
    )
    app.get('/decorated', { preHandler: app.authenticate }, async () => ({ ok: 1 }))
    await app.ready()
    expect(await get(app, '/me')).toMatchObject({ status: 401, body: MISSING })
    expect(await get(app, '/decorated')).toMatchObject({ status: 401, body: MISSING })
    expect(await get(app, '/me', await token())).toMatchObject({
      status: 200,
      body: { key: `${ISSUER}|alice` },
    })
    const reader = await token({ scope: 'orders:read', tenant: 'acme' })
    expect((await get(app, '/orders', reader)).status).toBe(200)
    expect((await get(app, '/any', reader)).status).toBe(200)
    expect((await get(app, '/acme', reader)).status).toBe(200)
    const other = await token({ scope: 'profile', tenant: 'other' })
    expect(await get(app, '/orders', other)).toMatchObject({
      status: 403,
      body: { error: 'insufficient_scope' },
    })
    expect((await get(app, '/orders', other)).challenge).toContain('scope="orders:read"')
    expect(await get(app, '/acme', other)).toMatchObject({
      status: 403,
      body: { error: 'insufficient_scope' },
    })
  })

  it('can be awaited in a handler, the @fastify/jwt way: a refusal rejects with the AuthError', async () => {
    const app = newApp()
    await app.register(jwtAuth, options())
    app.get('/me', async (request, reply) => {
      await authenticate(request, reply)
      await app.requireScopes('orders:read')(request, reply)
      return { key: request.principal?.key }
    })
    await app.ready()
    // The rejection reaches Fastify's error handler, which keeps status and challenge.
    expect(await get(app, '/me')).toMatchObject({
      status: 401,
      challenge: 'Bearer realm="api"',
      body: { statusCode: 401, code: 'missing_token' },
    })
    expect(await get(app, '/me', await token())).toMatchObject({ status: 403 })
    expect(await get(app, '/me', await token({ scope: 'orders:read' }))).toMatchObject({
      status: 200,
      body: { key: `${ISSUER}|alice` },
    })
  })

  it('leave every other error of a guarded route to its usual path, handled once', async () => {
    const log = captureLogger()
    const loggerInstance: FastifyBaseLogger = log.logger
    const app = Fastify({ loggerInstance })
    apps.push(app)
    await app.register(jwtAuth, options())
    let onError = 0
    app.addHook('onError', async () => {
      onError++
    })
    app.get('/boom', { preHandler: [authenticate, requireScopes('a')] }, async () => {
      throw new Error('the database is down')
    })
    await app.ready()
    expect((await get(app, '/boom', await token({ scope: 'a' }))).status).toBe(500)
    expect(onError).toBe(1)
    expect(log.lines.filter((line) => line.level === 50)).toHaveLength(1)
    // A refusal is answered by the guard itself: no error path at all.
    expect((await get(app, '/boom')).status).toBe(401)
    expect(onError).toBe(1)
  })

  it('refuse a scope list given as an array or a space-separated string, suggesting the call', () => {
    expect(() => requireScopes(['a', 'b'] as unknown as string)).toThrow(
      "trustgate: requireScopes() takes each scope as its own argument: use requireScopes('a', 'b')",
    )
    expect(() => requireAnyScope('a b')).toThrow("use requireAnyScope('a', 'b')")
    expect(() => requireScopes('a', 'b')).not.toThrow()
  })
})

describe('@fastify/auth under its default options', () => {
  async function createApp(): Promise<FastifyInstance> {
    const app = newApp()
    await app.register(fastifyAuth)
    await app.register(jwtAuth, options())
    const apiKey = (request: FastifyRequest, _reply: FastifyReply, done: (e?: Error) => void) => {
      done(request.headers['x-api-key'] === 'k1' ? undefined : new Error('bad api key'))
    }
    app.get('/or', { preHandler: app.auth([authenticate, apiKey]) }, async (request) => ({
      who: request.principal?.key ?? 'api-key',
    }))
    app.get(
      '/and',
      { preHandler: app.auth([app.requireScopes('orders:read'), apiKey], { relation: 'and' }) },
      async (request) => ({ who: request.principal?.key }),
    )
    await app.ready()
    return app
  }

  it('or: a refusing guard hands its AuthError on, so that the next strategy is tried', async () => {
    const app = await createApp()
    const byKey = await app.inject({ url: '/or', headers: { 'x-api-key': 'k1' } })
    expect([byKey.statusCode, byKey.json()]).toEqual([200, { who: 'api-key' }])
    expect((await get(app, '/or', await token())).body).toEqual({ who: `${ISSUER}|alice` })
    expect((await get(app, '/or')).status).toBe(401)
  })

  it('and: both must pass', async () => {
    const app = await createApp()
    const reader = await token({ scope: 'orders:read' })
    const both = await app.inject({
      url: '/and',
      headers: { 'x-api-key': 'k1', authorization: `Bearer ${reader}` },
    })
    expect(both.statusCode).toBe(200)
    const tokenOnly = await get(app, '/and', reader)
    expect(tokenOnly.status).toBe(401)
    const keyOnly = await app.inject({ url: '/and', headers: { 'x-api-key': 'k1' } })
    expect(keyOnly.statusCode).toBe(401)
    expect(keyOnly.headers['www-authenticate']).toBe('Bearer realm="api"')
  })
})

describe('registering more than once', () => {
  it('app-wide plus a child context with another audience: each scope verifies with its own', async () => {
    const app = newApp()
    await app.register(jwtAuth, options(AUDIENCE))
    app.get('/me', { preHandler: authenticate }, async (request) => ({
      key: request.principal?.key,
    }))
    await app.register(
      async (admin) => {
        await admin.register(jwtAuth, options(ADMIN_AUDIENCE, { realm: 'admin' }))
        admin.get('/me', { preHandler: admin.authenticate }, async (request) => ({
          aud: request.principal?.audience,
        }))
        admin.get('/scoped', { preHandler: requireScopes('x') }, async () => ({ ok: 1 }))
      },
      { prefix: '/admin' },
    )
    await app.ready()
    const api = await token()
    const adminToken = await token({ aud: ADMIN_AUDIENCE })
    expect((await get(app, '/me', api)).status).toBe(200)
    expect((await get(app, '/me', adminToken)).status).toBe(401)
    expect(await get(app, '/admin/me', adminToken)).toMatchObject({
      status: 200,
      body: { aud: [ADMIN_AUDIENCE] },
    })
    const wrong = await get(app, '/admin/me', api)
    expect(wrong.status).toBe(401)
    expect(wrong.challenge).toContain('realm="admin"')
    expect(wrong.challenge).toContain(
      'error_description="The token is not meant for this audience"',
    )
    // The child's guards use the child's realm.
    expect((await get(app, '/admin/scoped')).challenge).toBe('Bearer realm="admin"')
    expect(app.trustgate).not.toBe(
      (await app.inject({ url: '/admin/me' })).statusCode === 401 ? undefined : app.trustgate,
    )
  })

  it('sibling contexts each with their own options', async () => {
    const app = newApp()
    for (const [prefix, audience] of [
      ['/a', AUDIENCE],
      ['/b', ADMIN_AUDIENCE],
    ] as const) {
      await app.register(
        async (child) => {
          await child.register(jwtAuth, options(audience))
          child.get('/me', { preHandler: authenticate }, async () => ({ prefix }))
        },
        { prefix },
      )
    }
    await app.ready()
    const a = await token()
    const b = await token({ aud: ADMIN_AUDIENCE })
    expect((await get(app, '/a/me', a)).status).toBe(200)
    expect((await get(app, '/b/me', b)).status).toBe(200)
    expect((await get(app, '/a/me', b)).status).toBe(401)
    expect((await get(app, '/b/me', a)).status).toBe(401)
  })

  it('twice in the same context: a trustgate error that says what to do instead', async () => {
    const app = newApp()
    await app.register(jwtAuth, options())
    await expect(app.register(jwtAuth, options(ADMIN_AUDIENCE))).rejects.toThrow(
      /^trustgate: @trustgate\/fastify is registered twice in the same context.*child\.register/,
    )
  })
})

describe('required and skip', () => {
  async function createApp(extra: Partial<FastifyJwtAuthOptions>): Promise<FastifyInstance> {
    const app = newApp()
    await app.register(jwtAuth, options(AUDIENCE, extra))
    app.get('/data', async (request) => ({ who: request.principal?.key ?? null }))
    app.get('/open', { config: { trustgate: { required: false } } }, async (request) => ({
      who: request.principal?.key ?? null,
    }))
    app.get('/health', async (request) => ({ up: true, who: request.principal }))
    await app.ready()
    return app
  }

  it('without required, a route without a guard is public', async () => {
    const app = await createApp({})
    expect(await get(app, '/data')).toMatchObject({ status: 200, body: { who: null } })
  })

  it('required: true refuses every request without a principal, guard or not', async () => {
    const app = await createApp({ required: true })
    const none = await get(app, '/data')
    expect(none).toMatchObject({ status: 401, challenge: 'Bearer realm="api"', body: MISSING })
    expect((await get(app, '/no-such-route')).status).toBe(401)
    expect(await get(app, '/data', await token())).toMatchObject({
      status: 200,
      body: { who: `${ISSUER}|alice` },
    })
  })

  it('a route opts out with config.trustgate.required = false, and bad tokens still fail there', async () => {
    const app = await createApp({ required: true })
    expect(await get(app, '/open')).toMatchObject({ status: 200, body: { who: null } })
    expect((await get(app, '/open', await token())).body).toEqual({ who: `${ISSUER}|alice` })
    const forged = await token({}, await createKey('ES256', { kid: key.kid }))
    expect((await get(app, '/open', forged)).status).toBe(401)
  })

  it('skip: picked requests are not verified, get principal null, and required does not apply', async () => {
    const app = await createApp({
      required: true,
      skip: (request) => request.url === '/health',
    })
    const forged = await token({}, await createKey('ES256', { kid: key.kid }))
    expect(await get(app, '/health', forged)).toMatchObject({
      status: 200,
      body: { up: true, who: null },
    })
    expect((await get(app, '/health')).status).toBe(200)
    expect((await get(app, '/data', forged)).status).toBe(401)
  })

  it('refuses required and skip of the wrong type at start-up', async () => {
    for (const bad of [{ required: 'yes' }, { skip: true }]) {
      await expect(newApp().register(jwtAuth, options(AUDIENCE, bad as never))).rejects.toThrow(
        /^trustgate: (required|skip) must be/,
      )
    }
  })
})

describe('failure paths never throw', () => {
  const fake = (): Error =>
    Object.assign(new Error('looks like one'), { name: 'AuthError', code: 'x', reason: 'y' })

  it('a rule that rejects with an AuthError look-alike is a 500, not a hang or an unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const app = newApp()
      await app.register(jwtAuth, options())
      app.get('/async', { preHandler: requirePrincipal(() => Promise.reject(fake())) }, () => 1)
      app.get(
        '/sync',
        {
          preHandler: requirePrincipal(() => {
            throw fake()
          }),
        },
        () => 1,
      )
      app.get(
        '/string',
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the case under test
        { preHandler: requirePrincipal(() => Promise.reject('no')) },
        () => 1,
      )
      await app.ready()
      const jwt = await token()
      for (const url of ['/async', '/sync', '/string']) {
        expect((await get(app, url, jwt)).status).toBe(500)
      }
      // A getToken that throws is a 500 too, from the onRequest hook.
      const other = newApp()
      await other.register(jwtAuth, {
        ...options(),
        getToken: () => {
          throw fake()
        },
      })
      other.get('/', () => 1)
      await other.ready()
      expect((await get(other, '/')).status).toBe(500)
      await new Promise((resolve) => setImmediate(resolve))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})

describe('runtime values re-exported', () => {
  it('AuthError and isAuthError come from the adapter as values', () => {
    expect(typeof trustgate.AuthError).toBe('function')
    expect(trustgate.isAuthError(new Error('x'))).toBe(false)
  })

  it('the provider presets come from the adapter as values', () => {
    for (const preset of [
      trustgate.auth0,
      trustgate.okta,
      trustgate.entraId,
      trustgate.cognito,
      trustgate.keycloak,
      trustgate.google,
      trustgate.firebase,
      trustgate.clerk,
    ]) {
      expect(typeof preset).toBe('function')
    }
    expect(trustgate.google({ audience: 'x' })).toMatchObject({ audience: ['x'] })
  })

  it('an unknown option name throws at registration, naming the key', async () => {
    await expect(
      newApp().register(jwtAuth, { ...options(), respnd: false } as FastifyJwtAuthOptions),
    ).rejects.toThrow(/^trustgate: respnd is not an option \(did you mean respond\?\)/)
    await expect(
      newApp().register(jwtAuth, { ...options(), clockTolerence: 30 } as FastifyJwtAuthOptions),
    ).rejects.toThrow('clockTolerence is not an option')
  })
})
