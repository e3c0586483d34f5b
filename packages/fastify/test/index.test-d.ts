import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { pino } from 'pino'
import { describe, expectTypeOf, it } from 'vitest'
import fastifyAuth from '@fastify/auth'
import {
  authenticate,
  jwtAuth,
  requireAnyScope,
  requirePrincipal,
  requireScopes,
  type AuthGuard,
  type FastifyJwtAuthOptions,
  type Principal,
} from '../src/index.js'

const issuers = [
  { issuer: 'https://issuer.test', audience: 'api', jwksUri: 'https://issuer.test/jwks' },
]

describe('request.principal', () => {
  it('is Principal | null in every handler, by module augmentation', () => {
    const app = Fastify()
    app.get('/', async (request) => {
      expectTypeOf(request.principal).toEqualTypeOf<Principal | null>()
      // @ts-expect-error the principal may be null: it must be checked before use
      return request.principal.key
    })
    expectTypeOf<FastifyRequest['principal']>().toEqualTypeOf<Principal | null>()
  })

  it('keeps its scopes read-only and refuses a non-principal', () => {
    const app = Fastify()
    app.get('/', async (request) => {
      if (request.principal === null) return null
      expectTypeOf(request.principal.scopes).toEqualTypeOf<readonly string[]>()
      // @ts-expect-error scopes cannot be widened by a handler
      request.principal.scopes.push('admin')
      // @ts-expect-error a principal is not a string
      request.principal = 'alice'
      return 'ok'
    })
  })
})

describe('the guards', () => {
  it('are typed preHandlers on the instance', () => {
    const app = Fastify()
    expectTypeOf(app.authenticate).toEqualTypeOf<AuthGuard>()
    expectTypeOf(app.requireScopes).parameters.toEqualTypeOf<string[]>()
    expectTypeOf(app.requireScopes('a', 'b')).toEqualTypeOf<AuthGuard>()
    expectTypeOf(app.requireAnyScope('a')).toEqualTypeOf<AuthGuard>()
    expectTypeOf(app.requirePrincipal((p) => p.claims.tenant === 'acme')).toEqualTypeOf<AuthGuard>()
    expectTypeOf<AuthGuard>().toExtend<
      (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => void
    >()
  })

  it('are imports too, awaitable the @fastify/jwt way and fit for @fastify/auth', async () => {
    const app = Fastify()
    await app.register(fastifyAuth)
    app.get('/me', { preHandler: authenticate }, async (request, reply) => {
      expectTypeOf(authenticate(request, reply)).toEqualTypeOf<Promise<void>>()
      await requireScopes('a')(request, reply)
      await app.authenticate(request, reply)
      return request.principal?.key
    })
    app.get('/or', { preHandler: app.auth([authenticate, requireAnyScope('a')]) }, () => 'ok')
    app.get(
      '/and',
      { preHandler: app.auth([requirePrincipal(() => true), authenticate], { relation: 'and' }) },
      () => 'ok',
    )
    app.get('/public', { config: { trustgate: { required: false } } }, () => 'ok')
    // @ts-expect-error required is a boolean
    app.get('/bad', { config: { trustgate: { required: 'no' } } }, () => 'ok')
  })

  it('fit routes of an app with a pino loggerInstance, route generics and guard arrays', () => {
    const app = Fastify({ loggerInstance: pino() })
    app.get('/me', { preHandler: app.authenticate }, async (request) => request.principal?.key)
    app.get<{ Querystring: { page: string } }>(
      '/orders',
      { preHandler: [app.authenticate, app.requireScopes('orders:read')] },
      async (request) => request.query.page,
    )
    app.route({
      method: 'GET',
      url: '/acme',
      preHandler: app.requirePrincipal(async (p) => p.issuer === 'https://issuer.test'),
      handler: async () => 'ok',
    })
  })

  it('refuse misuse at compile time', () => {
    const app = Fastify()
    // @ts-expect-error scopes are strings
    app.requireScopes(1)
    // @ts-expect-error scopes are spread, not an array
    app.requireAnyScope(['a', 'b'])
    // @ts-expect-error the rule answers a boolean
    app.requirePrincipal((p) => p.subject)
    // @ts-expect-error authenticate is a guard, not a factory
    app.get('/x', { preHandler: app.authenticate() }, async () => 'x')
  })
})

describe('the plugin options', () => {
  it('take the verifier options and the adapter options', async () => {
    const app = Fastify()
    await app.register(jwtAuth, {
      issuers,
      realm: 'orders',
      clockTolerance: 10,
      maxTokenLength: 8192,
      jwks: { cacheMaxAge: 60_000, cooldownDuration: 5_000, timeoutDuration: 2_000 },
      tokenCache: false,
      logger: app.log,
      getToken: (request) => request.headers['x-token'] as string | undefined,
      respond: false,
    })
    expectTypeOf<FastifyJwtAuthOptions['getToken']>().toEqualTypeOf<
      ((request: FastifyRequest) => string | null | undefined) | undefined
    >()
  })

  it('refuse misuse at compile time', async () => {
    const app = Fastify()
    // @ts-expect-error issuers is required
    await app.register(jwtAuth, { realm: 'api' })
    // @ts-expect-error respond is a boolean
    await app.register(jwtAuth, { issuers, respond: 'yes' })
    // @ts-expect-error getToken returns a string, null or undefined
    await app.register(jwtAuth, { issuers, getToken: () => 42 })
    // @ts-expect-error an issuer needs an audience
    await app.register(jwtAuth, { issuers: [{ issuer: 'https://issuer.test', jwksUri: 'x' }] })
  })
})
