import express, { type Request, type RequestHandler } from 'express'
import { pino } from 'pino'
import { describe, expectTypeOf, it } from 'vitest'
import {
  AuthError,
  auth0,
  isAuthError,
  jwtAuth,
  requireAnyScope,
  requireAuth,
  requirePrincipal,
  requireScopes,
  type ExpressJwtAuthOptions,
  type JwtAuthMiddleware,
  type Principal,
} from '../src/index.js'
import {
  auth0 as coreAuth0,
  AuthError as CoreAuthError,
  isAuthError as coreIsAuthError,
  type Verifier,
} from '@trustgate/core'

const issuers = [
  { issuer: 'https://issuer.test', audience: 'api', jwksUri: 'https://issuer.test/jwks' },
]

describe('req.principal', () => {
  it('is Principal | null in every handler, by module augmentation', () => {
    const app = express()
    app.get('/', (req, res) => {
      expectTypeOf(req.principal).toEqualTypeOf<Principal | null>()
      // @ts-expect-error the principal may be null: it must be checked before use
      res.json(req.principal.key)
    })
    expectTypeOf<Request['principal']>().toEqualTypeOf<Principal | null>()
  })

  it('keeps its scopes read-only and refuses a non-principal', () => {
    const app = express()
    app.get('/', (req, res) => {
      if (req.principal === null) return
      expectTypeOf(req.principal.scopes).toEqualTypeOf<readonly string[]>()
      // @ts-expect-error scopes cannot be widened by a handler
      req.principal.scopes.push('admin')
      // @ts-expect-error a principal is not a string
      req.principal = 'alice'
      res.end()
    })
  })
})

describe('jwtAuth', () => {
  it('returns one middleware that carries its verifier', () => {
    const middleware = jwtAuth({ issuers })
    expectTypeOf(middleware).toEqualTypeOf<JwtAuthMiddleware>()
    expectTypeOf(middleware).toExtend<RequestHandler>()
    expectTypeOf(middleware.verifier).toEqualTypeOf<Verifier>()
    express().use(middleware)
  })

  it('takes the verifier options and the adapter options', () => {
    jwtAuth({
      issuers,
      realm: 'orders',
      clockTolerance: 10,
      maxTokenLength: 8192,
      jwks: { cacheMaxAge: 60_000, cooldownDuration: 5_000, timeoutDuration: 2_000 },
      tokenCache: { max: 100 },
      logger: pino(),
      getToken: (req) => req.get('x-token'),
      respond: true,
      required: true,
      skip: (req) => req.path === '/healthz',
      resourceMetadata: {
        resource: 'https://api.example.com',
        authorizationServers: ['https://issuer.test'],
        scopesSupported: ['orders:read'],
      },
    })
    expectTypeOf<ExpressJwtAuthOptions['getToken']>().toEqualTypeOf<
      ((req: Request) => string | null | undefined) | undefined
    >()
  })

  it('refuses misuse at compile time', () => {
    // @ts-expect-error issuers is required
    jwtAuth({ realm: 'api' })
    // @ts-expect-error respond is a boolean
    jwtAuth({ issuers, respond: 'yes' })
    // @ts-expect-error getToken returns a string, null or undefined
    jwtAuth({ issuers, getToken: () => 42 })
    // @ts-expect-error required is a boolean
    jwtAuth({ issuers, required: 'yes' })
    // @ts-expect-error skip answers a boolean
    jwtAuth({ issuers, skip: () => 'yes' })
  })

  it('re-exports the runtime values, typed as in the core', () => {
    expectTypeOf(isAuthError).toEqualTypeOf<typeof coreIsAuthError>()
    expectTypeOf(AuthError).toEqualTypeOf<typeof CoreAuthError>()
    expectTypeOf(auth0).toEqualTypeOf<typeof coreAuth0>()
  })
})

describe('the guards', () => {
  it('are factories of route middleware', () => {
    expectTypeOf(requireAuth()).toEqualTypeOf<RequestHandler>()
    expectTypeOf(requireScopes).parameters.toEqualTypeOf<string[]>()
    expectTypeOf(requireAnyScope('a', 'b')).toEqualTypeOf<RequestHandler>()
    expectTypeOf(requirePrincipal).parameter(0).parameter(0).toEqualTypeOf<Principal>()
    const app = express()
    app.get('/orders', requireAuth(), requireScopes('orders:read'), (req, res) => {
      res.json(req.principal?.scopes)
    })
    app.get(
      '/acme',
      requirePrincipal(async (p) => p.claims.tenant === 'acme'),
      (_req, res) => {
        res.end()
      },
    )
  })

  it('refuse misuse at compile time', () => {
    // @ts-expect-error scopes are strings
    requireScopes(1)
    // @ts-expect-error scopes are spread, not an array
    requireAnyScope(['a', 'b'])
    // @ts-expect-error the rule answers a boolean
    requirePrincipal((p) => p.subject)
    // @ts-expect-error requireAuth takes no argument
    requireAuth('orders:read')
  })
})
