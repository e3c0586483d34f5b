import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express'
import express4 from 'express4'
import { createRequire } from 'node:module'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  jwtAuth,
  requireAnyScope,
  requireAuth,
  requirePrincipal,
  requireScopes,
  type ExpressJwtAuthOptions,
} from '../src/index.js'
import { createKey, sign, type TestKey } from '../../../test/helpers/keys.js'
import { captureLogger, type CapturedLogger } from '../../../test/helpers/log.js'
import { rawRequest } from '../../../test/helpers/raw-http.js'
import { startTestIdp } from '../../../test/helpers/idp.js'
import type { TestServer } from '../../../test/helpers/server.js'

const ISSUER = 'https://issuer.test'
const DOWN_ISSUER = 'https://down.test'
const AUDIENCE = 'https://api.test'

let idp: TestServer
let key: TestKey
let jwksUri: string
let downJwksUri: string
const servers: Server[] = []

beforeAll(async () => {
  ;({ idp, key, jwksUri, downJwksUri } = await startTestIdp())
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
    issuers: [
      { issuer: ISSUER, audience: AUDIENCE, jwksUri },
      { issuer: DOWN_ISSUER, audience: AUDIENCE, jwksUri: downJwksUri },
    ],
    jwks: { timeoutDuration: 1000 },
    ...extra,
  }
}

function token(claims: Record<string, unknown> = {}, signer: TestKey = key): Promise<string> {
  return sign(signer, { iss: ISSUER, aud: AUDIENCE, sub: 'alice', ...claims })
}

async function forgedToken(claims: Record<string, unknown> = {}): Promise<string> {
  // Same kid and claims, signed by a key the issuer never published.
  return token(claims, await createKey('ES256', { kid: key.kid }))
}

/** Starts `app` on 127.0.0.1 and returns its origin. */
async function listen(app: Express): Promise<string> {
  const server = createServer(app)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`
}

function expectNoToken(jwt: string, ...texts: readonly string[]): void {
  const signature = jwt.split('.')[2] ?? jwt
  for (const text of texts) {
    expect(text).not.toContain(jwt)
    expect(text).not.toContain(signature)
  }
}

const challenge = (code: string, description: string, extra = ''): string =>
  `Bearer realm="api", error="${code}", error_description="${description}"${extra}`

type Framework = typeof express

interface Setup {
  log?: CapturedLogger
  before?: RequestHandler
  after?: ErrorRequestHandler
  auth?: Partial<ExpressJwtAuthOptions>
}

/** The app under test: a public route and one route per guard. */
function createApp(framework: Framework, setup: Setup = {}): Express {
  const app = framework()
  if (setup.before !== undefined) app.use(setup.before)
  app.use(jwtAuth(options({ logger: (setup.log ?? captureLogger()).logger, ...setup.auth })))
  app.get('/public', (req, res) => {
    res.json({ who: req.principal?.key ?? null })
  })
  app.get('/me', requireAuth(), (req, res) => {
    res.json({ key: req.principal?.key })
  })
  app.get('/orders', requireScopes('orders:read', 'orders:write'), (_req, res) => {
    res.json({ orders: [] })
  })
  app.get('/either', requireAnyScope('admin', 'orders:read'), (_req, res) => {
    res.json({ ok: true })
  })
  app.get(
    '/acme',
    requirePrincipal(async (p) => p.claims.tenant === 'acme'),
    (_req, res) => {
      res.json({ tenant: 'acme' })
    },
  )
  app.get(
    '/flaky',
    requirePrincipal(async () => {
      throw new Error('the tenant database is down')
    }),
    (_req, res) => {
      res.json({ unreachable: true })
    },
  )
  if (setup.after !== undefined) app.use(setup.after)
  return app
}

const versionOf = (name: string): string =>
  (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version

describe.each([
  ['Express 5', express, 'express', '5.'],
  ['Express 4', express4, 'express4', '4.'],
] as const)('%s', (_name, framework, installed, major) => {
  let origin: string
  const log = captureLogger()

  it('is the major version it claims to be', () => {
    expect(versionOf(installed).startsWith(major)).toBe(true)
  })

  beforeAll(async () => {
    origin = await listen(createApp(framework, { log }))
  })

  it('lets a request without a token reach public routes with principal === null', async () => {
    const response = await request(origin).get('/public').expect(200)
    expect(response.body).toEqual({ who: null })
  })

  it('counts a Basic header as no token', async () => {
    const basic = `Basic ${Buffer.from('alice:secret').toString('base64')}`
    await request(origin).get('/public').set('Authorization', basic).expect(200, { who: null })
    const guarded = await request(origin).get('/me').set('Authorization', basic).expect(401)
    expect(guarded.headers['www-authenticate']).toBe('Bearer realm="api"')
  })

  it('carries the principal of a valid token, with the scheme in any case', async () => {
    const jwt = await token()
    await request(origin)
      .get('/public')
      .set('Authorization', `Bearer ${jwt}`)
      .expect(200, { who: `${ISSUER}|alice` })
    await request(origin)
      .get('/me')
      .set('Authorization', `BEARER ${jwt}`)
      .expect(200, { key: `${ISSUER}|alice` })
  })

  it('answers a guard without a token with 401 missing_token through the default error handler', async () => {
    for (const path of ['/me', '/orders', '/either', '/acme']) {
      const response = await request(origin).get(path).expect(401)
      expect(response.headers['www-authenticate']).toBe('Bearer realm="api"')
    }
  })

  it('answers a forged token with 401 invalid_token on every route, without the token', async () => {
    const forged = await forgedToken()
    for (const path of ['/public', '/me', '/no-such-route']) {
      const response = await request(origin).get(path).set('Authorization', `Bearer ${forged}`)
      expect(response.status).toBe(401)
      expect(response.headers['www-authenticate']).toBe(
        challenge('invalid_token', 'The token signature is invalid'),
      )
      // Outside production the default handler prints err.stack: a fixed sentence, no token.
      expect(response.text).toContain('The token signature is invalid')
      expectNoToken(forged, response.text, JSON.stringify(response.headers), ...log.raw)
    }
    await request(origin)
      .get('/me')
      .set('Authorization', `Bearer ${await token()}`)
      .expect(200)
  })

  it('answers a malformed Authorization header with 400 invalid_request', async () => {
    const jwt = await token()
    for (const header of ['Bearer', `Bearer ${jwt} extra`]) {
      const response = await request(origin).get('/public').set('Authorization', header).expect(400)
      expect(response.headers['www-authenticate']).toBe(
        challenge('invalid_request', 'The Authorization header is not a single Bearer token'),
      )
      expectNoToken(jwt, response.text)
    }
  })

  it('answers two Authorization headers on a raw socket with 400, and one with 200', async () => {
    const jwt = await token()
    const twice = await rawRequest(origin, '/public', [
      ['Authorization', `Bearer ${jwt}`],
      ['authorization', `Bearer ${jwt}`],
    ])
    expect(twice.status).toBe(400)
    expect(twice.headers['www-authenticate']).toBe(
      challenge('invalid_request', 'More than one Authorization header was sent'),
    )
    expectNoToken(jwt, twice.raw)
    const once = await rawRequest(origin, '/public', [['Authorization', `Bearer ${jwt}`]])
    expect(once.status).toBe(200)
    expect(JSON.parse(once.body)).toEqual({ who: `${ISSUER}|alice` })
  })

  it('requires every scope with requireScopes: 403 insufficient_scope naming them', async () => {
    const partial = await token({ scope: 'orders:read' })
    const response = await request(origin)
      .get('/orders')
      .set('Authorization', `Bearer ${partial}`)
      .expect(403)
    expect(response.headers['www-authenticate']).toBe(
      challenge(
        'insufficient_scope',
        'The token does not carry the required scope',
        ', scope="orders:read orders:write"',
      ),
    )
    const full = await token({ scope: 'orders:read orders:write' })
    await request(origin).get('/orders').set('Authorization', `Bearer ${full}`).expect(200)
  })

  it('requires one of the scopes with requireAnyScope', async () => {
    const one = await token({ scp: ['orders:read'] })
    await request(origin).get('/either').set('Authorization', `Bearer ${one}`).expect(200)
    const none = await token({ scope: 'profile' })
    await request(origin).get('/either').set('Authorization', `Bearer ${none}`).expect(403)
  })

  it('applies a custom claim rule with requirePrincipal: 403 forbidden when it refuses', async () => {
    const acme = await token({ tenant: 'acme' })
    await request(origin).get('/acme').set('Authorization', `Bearer ${acme}`).expect(200)
    const globex = await token({ tenant: 'globex' })
    const response = await request(origin)
      .get('/acme')
      .set('Authorization', `Bearer ${globex}`)
      .expect(403)
    expect(response.headers['www-authenticate']).toBe(
      challenge('insufficient_scope', 'The principal is not allowed to access this resource'),
    )
  })

  it('passes a rejected async rule to the error handler as a 500, not an unhandled rejection', async () => {
    const jwt = await token()
    const response = await request(origin)
      .get('/flaky')
      .set('Authorization', `Bearer ${jwt}`)
      .expect(500)
    expect(response.headers['www-authenticate']).toBeUndefined()
  })

  it('answers a token whose JWKS server is down with 503 jwks_unavailable', async () => {
    const jwt = await token({ iss: DOWN_ISSUER })
    const response = await request(origin)
      .get('/public')
      .set('Authorization', `Bearer ${jwt}`)
      .expect(503)
    expect(response.headers['www-authenticate']).toBe(
      challenge('jwks_unavailable', 'The issuer keys cannot be retrieved right now'),
    )
  })

  it('answers with the JSON body itself with respond: true', async () => {
    const app = await listen(createApp(framework, { auth: { respond: true } }))
    const expired = await token({ exp: Math.floor(Date.now() / 1000) - 600 })
    const cases = [
      { path: '/me', auth: undefined, status: 401, code: 'missing_token' },
      { path: '/public', auth: `Bearer ${expired}`, status: 401, code: 'invalid_token' },
      { path: '/public', auth: 'Bearer a b', status: 400, code: 'invalid_request' },
      { path: '/orders', auth: `Bearer ${await token()}`, status: 403, code: 'insufficient_scope' },
      {
        path: '/public',
        auth: `Bearer ${await token({ iss: DOWN_ISSUER })}`,
        status: 503,
        code: 'jwks_unavailable',
      },
    ]
    const seen: string[] = []
    for (const { path, auth, status, code } of cases) {
      const call = request(app).get(path)
      const response = await (auth === undefined ? call : call.set('Authorization', auth))
      seen.push(response.text, JSON.stringify(response.headers))
      expect(response.status).toBe(status)
      expect(response.headers['content-type']).toMatch(/^application\/json/)
      expect(response.body).toEqual({
        error: code,
        error_description: expect.any(String) as unknown,
      })
      const description = (response.body as { error_description: string }).error_description
      expect(response.headers['www-authenticate']).toEqual(
        code === 'missing_token'
          ? 'Bearer realm="api"'
          : expect.stringContaining(`error="${code}", error_description="${description}"`),
      )
    }
    expectNoToken(expired, ...seen)
  })

  it("lets the app's error middleware take over, seeing err.status, err.headers and err.code", async () => {
    const seen: unknown[] = []
    const app = await listen(
      createApp(framework, {
        after: (err: Record<string, unknown>, _req, res, _next) => {
          seen.push({ code: err.code, reason: err.reason, status: err.status })
          res
            .status(err.status as number)
            .set(err.headers as Record<string, string>)
            .json({ problem: err.code })
        },
      }),
    )
    const expired = await token({ exp: Math.floor(Date.now() / 1000) - 600 })
    const bad = await request(app).get('/public').set('Authorization', `Bearer ${expired}`)
    expect(bad.status).toBe(401)
    expect(bad.body).toEqual({ problem: 'invalid_token' })
    expect(bad.headers['www-authenticate']).toContain('error="invalid_token"')
    await request(app).get('/me').expect(401, { problem: 'missing_token' })
    await request(app)
      .get('/orders')
      .set('Authorization', `Bearer ${await token()}`)
      .expect(403, { problem: 'insufficient_scope' })
    expect(seen).toEqual([
      { code: 'invalid_token', reason: 'expired', status: 401 },
      { code: 'missing_token', reason: 'missing_token', status: 401 },
      { code: 'insufficient_scope', reason: 'insufficient_scope', status: 403 },
    ])
  })

  it('logs an untrusted issuer with the app request id and the remote address, never the token', async () => {
    const captured = captureLogger()
    const app = await listen(
      createApp(framework, {
        log: captured,
        before: (req, _res, next) => {
          ;(req as unknown as { id: string }).id = 'req-42'
          next()
        },
      }),
    )
    const before = idp.hits()
    const jwt = await token({ iss: 'https://evil.test' })
    const response = await request(app)
      .get('/public')
      .set('Authorization', `Bearer ${jwt}`)
      .expect(401)
    expect(response.headers['www-authenticate']).toBe(
      challenge('invalid_token', 'The token issuer is not trusted'),
    )
    expect(idp.hits()).toBe(before)
    expect(captured.lines.find((line) => line.event === 'untrusted_issuer')).toMatchObject({
      level: 40,
      iss: 'https://evil.test',
      kid: key.kid,
      alg: 'ES256',
      reqId: 'req-42',
      remoteAddress: '127.0.0.1',
    })
    expectNoToken(jwt, response.text, JSON.stringify(response.headers), ...captured.raw)
  })

  it('reads the token from getToken instead of the Authorization header', async () => {
    const app = await listen(
      createApp(framework, {
        auth: {
          getToken: (req) => {
            const value = req.headers['x-access-token']
            return typeof value === 'string' ? value : null
          },
        },
      }),
    )
    const jwt = await token()
    await request(app)
      .get('/me')
      .set('X-Access-Token', jwt)
      .expect(200, { key: `${ISSUER}|alice` })
    await request(app).get('/me').set('Authorization', `Bearer ${jwt}`).expect(401)
    await request(app)
      .get('/public')
      .set('X-Access-Token', await forgedToken())
      .expect(401)
  })

  it('answers a guard factory used uncalled with a 500, instead of leaving the request hanging', async () => {
    const app = framework()
    app.use(jwtAuth(options()))
    // Express's types accept any function here; this is the mistake they cannot catch.
    app.get('/me', requireAuth as unknown as RequestHandler, (_req, res) => {
      res.json({ ok: true })
    })
    app.get('/orders', requireScopes as unknown as RequestHandler, (_req, res) => {
      res.json({ ok: true })
    })
    const url = await listen(app)
    const me = await request(url).get('/me').timeout(5000).expect(500)
    expect(me.text).toContain('requireAuth is a factory: use requireAuth()')
    await request(url).get('/orders').timeout(5000).expect(500)
  })

  it('answers a guard used without jwtAuth with a 500 that says so', async () => {
    const app = framework()
    app.get('/me', requireAuth(), (_req, res) => {
      res.json({ ok: true })
    })
    const response = await request(await listen(app))
      .get('/me')
      .expect(500)
    expect(response.text).toContain('requireAuth() needs app.use(jwtAuth(options)) before it')
  })
})

describe('jwtAuth and the guards at start-up', () => {
  it('refuse a getToken that is not a function and a respond that is not a boolean', () => {
    expect(() => jwtAuth(options({ getToken: 'authorization' as never }))).toThrow(TypeError)
    expect(() => jwtAuth(options({ respond: 'yes' as never }))).toThrow(/respond/)
  })

  it('throw a TypeError naming the field for a bad verifier option', () => {
    expect(() => jwtAuth({ issuers: [{ issuer: ISSUER, jwksUri } as never] })).toThrow(
      /issuers\[0\]\.audience/,
    )
  })

  it('refuse a bad scope list or rule when the guard is made, not at request time', () => {
    expect(() => requireScopes()).toThrow(TypeError)
    expect(() => requireScopes('orders:read', 'a "b"')).toThrow(/requireScopes\[1\]/)
    expect(() => requireAnyScope('a b')).toThrow(TypeError)
    expect(() => requirePrincipal('admin' as never)).toThrow(TypeError)
  })

  it('expose the verifier, for tokens that do not come with a request', async () => {
    const middleware = jwtAuth(options())
    const principal = await middleware.verifier.verify(await token())
    expect(principal.key).toBe(`${ISSUER}|alice`)
  })
})
