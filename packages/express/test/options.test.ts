/**
 * `required`, `skip`, the runtime values re-exported, the scope-list message, and failure paths
 * that never throw, on Express 4 and 5.
 */
import express, { type ErrorRequestHandler, type Express } from 'express'
import express4 from 'express4'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as trustgate from '../src/index.js'
import {
  jwtAuth,
  requireAnyScope,
  requireAuth,
  requirePrincipal,
  requireScopes,
  type ExpressJwtAuthOptions,
} from '../src/index.js'
import { createKey, sign, type TestKey } from '../../../test/helpers/keys.js'
import { captureLogger } from '../../../test/helpers/log.js'
import { startTestIdp } from '../../../test/helpers/idp.js'
import type { TestServer } from '../../../test/helpers/server.js'

const ISSUER = 'https://issuer.test'
const AUDIENCE = 'https://api.test'

let idp: TestServer
let key: TestKey
let jwksUri: string
const servers: Server[] = []

beforeAll(async () => {
  ;({ idp, key, jwksUri } = await startTestIdp())
})

afterAll(async () => {
  await Promise.all(
    servers.map((server) => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    }),
  )
  await idp.close()
})

function options(extra: Partial<ExpressJwtAuthOptions> = {}): ExpressJwtAuthOptions {
  return {
    issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwksUri }],
    logger: captureLogger().logger,
    ...extra,
  }
}

function token(claims: Record<string, unknown> = {}, signer: TestKey = key): Promise<string> {
  return sign(signer, { iss: ISSUER, aud: AUDIENCE, sub: 'alice', ...claims })
}

async function listen(app: Express): Promise<string> {
  const server = createServer(app)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`
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

// Answers errors as JSON with their status, so that tests can read them.
const errors: ErrorRequestHandler = (
  err: Error & { status?: number; headers?: Record<string, string> },
  _req,
  res,
  _next,
) => {
  res
    .status(err.status ?? 500)
    .set(err.headers ?? {})
    .json({ message: err.message })
}

describe.each([
  ['Express 5', express],
  ['Express 4', express4],
] as const)('%s', (_name, framework) => {
  async function start(extra: Partial<ExpressJwtAuthOptions>): Promise<string> {
    const app = framework()
    app.get('/before', (req, res) => {
      res.json({ public: true, principal: req.principal ?? 'unset' })
    })
    app.use(jwtAuth(options(extra)))
    app.get('/data', (req, res) => {
      res.json({ who: req.principal?.key ?? null })
    })
    app.get('/health', (req, res) => {
      res.json({ up: true, who: req.principal })
    })
    app.use(errors)
    return listen(app)
  }

  it('without required, a route without a guard is public', async () => {
    const origin = await start({})
    expect(JSON.parse((await call(origin, '/data')).text)).toEqual({ who: null })
  })

  it('required: true refuses every request without a principal that reaches it', async () => {
    const origin = await start({ required: true })
    const none = await call(origin, '/data')
    expect([none.status, none.challenge]).toEqual([401, 'Bearer realm="api"'])
    expect((await call(origin, '/no-such-route')).status).toBe(401)
    const signedIn = await call(origin, '/data', await token())
    expect(JSON.parse(signedIn.text)).toEqual({ who: `${ISSUER}|alice` })
    // Routes mounted before the middleware stay public.
    expect((await call(origin, '/before')).status).toBe(200)
  })

  it('skip: picked requests are not verified, get principal null, and required does not apply', async () => {
    const origin = await start({ required: true, skip: (req) => req.path === '/health' })
    const forged = await token({}, await createKey('ES256', { kid: key.kid }))
    const health = await call(origin, '/health', forged)
    expect([health.status, JSON.parse(health.text)]).toEqual([200, { up: true, who: null }])
    expect((await call(origin, '/data', forged)).status).toBe(401)
  })

  it.each([false, true])(
    'a rule that rejects with an AuthError look-alike or a string is a 500, never a hang or a skip (respond: %s)',
    async (respond) => {
      const unhandled: unknown[] = []
      const onUnhandled = (reason: unknown) => unhandled.push(reason)
      process.on('unhandledRejection', onUnhandled)
      try {
        const fake = Object.assign(new Error('looks like one'), {
          name: 'AuthError',
          code: 'x',
          reason: 'y',
        })
        const app = framework()
        app.use(jwtAuth(options({ respond })))
        app.get(
          '/fake',
          requirePrincipal(() => Promise.reject(fake)),
          (_req, res) => {
            res.json({ leaked: true })
          },
        )
        // next('route') would skip the rest of this route, guard included.
        app.get(
          '/route',
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the case under test
          requirePrincipal(() => Promise.reject('route')),
          (_req, res) => {
            res.json({ leaked: true })
          },
        )
        app.get('/route', (_req, res) => {
          res.json({ leaked: true })
        })
        const origin = await listen(app)
        const jwt = await token()
        for (const path of ['/fake', '/route']) {
          const answer = await call(origin, path, jwt)
          expect(answer.status).toBe(500)
          expect(answer.text).not.toContain('leaked')
        }
        await new Promise((resolve) => setImmediate(resolve))
        expect(unhandled).toEqual([])
      } finally {
        process.off('unhandledRejection', onUnhandled)
      }
    },
  )
})

describe('at start-up', () => {
  it('refuse a scope list given as an array or a space-separated string, suggesting the call', () => {
    expect(() => requireScopes(['a', 'b'] as unknown as string)).toThrow(
      "trustgate: requireScopes() takes each scope as its own argument: use requireScopes('a', 'b')",
    )
    expect(() => requireAnyScope('orders:read orders:write')).toThrow(
      "use requireAnyScope('orders:read', 'orders:write')",
    )
    expect(() => requireScopes('a', 'b')).not.toThrow()
  })

  it('refuse required and skip of the wrong type', () => {
    expect(() => jwtAuth(options({ required: 'yes' as never }))).toThrow(
      'trustgate: required must be a boolean',
    )
    expect(() => jwtAuth(options({ skip: true as never }))).toThrow(
      'trustgate: skip must be a function',
    )
  })

  it('re-export AuthError and isAuthError as values', () => {
    expect(typeof trustgate.AuthError).toBe('function')
    expect(trustgate.isAuthError(new Error('x'))).toBe(false)
    expect(typeof requireAuth).toBe('function')
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

  it('an unknown option name throws, naming the key', () => {
    expect(() => jwtAuth({ ...options(), respnd: true } as ExpressJwtAuthOptions)).toThrow(
      /^trustgate: respnd is not an option \(did you mean respond\?\)/,
    )
    expect(() => jwtAuth({ ...options(), skp: () => true } as ExpressJwtAuthOptions)).toThrow(
      /^trustgate: skp is not an option \(did you mean skip\?\)/,
    )
  })
})
