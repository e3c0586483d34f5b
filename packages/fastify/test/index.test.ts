import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jwtAuth, type FastifyJwtAuthOptions } from '../src/index.js'
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
let downJwksUri: string
let jwksUri: string
const apps: { close(): Promise<unknown> }[] = []

beforeAll(async () => {
  ;({ idp, key, jwksUri, downJwksUri } = await startTestIdp())
})

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()))
  await idp.close()
})

function issuers(): FastifyJwtAuthOptions['issuers'] {
  return [
    { issuer: ISSUER, audience: AUDIENCE, jwksUri },
    { issuer: DOWN_ISSUER, audience: AUDIENCE, jwksUri: downJwksUri },
  ]
}

function token(claims: Record<string, unknown> = {}, signer: TestKey = key): Promise<string> {
  return sign(signer, { iss: ISSUER, aud: AUDIENCE, sub: 'alice', ...claims })
}

/** The app under test: a public route and one route per guard. */
async function createApp(
  options: Partial<FastifyJwtAuthOptions> = {},
  log: CapturedLogger = captureLogger(),
): Promise<FastifyInstance> {
  // Typed as Fastify's base logger, as most apps are; the type tests cover pino's own type.
  const loggerInstance: FastifyBaseLogger = log.logger
  const app = Fastify({ loggerInstance })
  apps.push(app)
  await app.register(jwtAuth, { issuers: issuers(), ...options })
  app.get('/public', async (request) => ({ who: request.principal?.key ?? null }))
  app.get('/me', { preHandler: app.authenticate }, async (request) => ({
    key: request.principal?.key,
  }))
  app.get(
    '/orders',
    { preHandler: app.requireScopes('orders:read', 'orders:write') },
    async () => ({ orders: [] }),
  )
  app.get('/either', { preHandler: app.requireAnyScope('admin', 'orders:read') }, async () => ({
    ok: true,
  }))
  app.get(
    '/acme',
    { preHandler: app.requirePrincipal(async (p) => p.claims.tenant === 'acme') },
    async () => ({ tenant: 'acme' }),
  )
  await app.ready()
  return app
}

interface Answer {
  status: number
  challenge: string | undefined
  body: unknown
  text: string
}

async function get(app: FastifyInstance, url: string, authorization?: string): Promise<Answer> {
  const response = await app.inject({
    method: 'GET',
    url,
    headers: authorization === undefined ? {} : { authorization },
  })
  const challenge = response.headers['www-authenticate']
  return {
    status: response.statusCode,
    challenge: typeof challenge === 'string' ? challenge : undefined,
    body: response.json(),
    text: `${JSON.stringify(response.headers)}\n${response.body}`,
  }
}

/** The challenge and body of a failure, from the contract's table. */
function failure(code: string, description: string, extra = ''): Partial<Answer> {
  return {
    challenge: `Bearer realm="api", error="${code}", error_description="${description}"${extra}`,
    body: { error: code, error_description: description },
  }
}

function expectNoToken(jwt: string, ...texts: readonly string[]): void {
  const signature = jwt.split('.')[2] ?? jwt
  for (const text of texts) {
    expect(text).not.toContain(jwt)
    expect(text).not.toContain(signature)
  }
}

describe('the plugin', () => {
  it('is wrapped with fastify-plugin, named and bound to Fastify 5', () => {
    const meta = (jwtAuth as unknown as Record<symbol, unknown>)[Symbol.for('plugin-meta')]
    expect(meta).toMatchObject({ name: '@trustgate/fastify', fastify: '5.x' })
    expect((jwtAuth as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')]).toBe(true)
  })

  it('decorates every request with principal = null, shape-stable, and the app with the guards', async () => {
    const app = await createApp()
    expect(app.hasRequestDecorator('principal')).toBe(true)
    for (const name of ['authenticate', 'requireScopes', 'requireAnyScope', 'requirePrincipal']) {
      expect(app.hasDecorator(name)).toBe(true)
    }
    expect(typeof app.trustgate.verify).toBe('function')
  })

  it('refuses a getToken that is not a function and a respond that is not a boolean', async () => {
    const bad = [{ getToken: 'authorization' }, { respond: 'yes' }]
    for (const options of bad) {
      const app = Fastify()
      apps.push(app)
      await expect(
        app.register(jwtAuth, { issuers: issuers(), ...(options as object) }),
      ).rejects.toThrow(TypeError)
    }
  })

  it('throws a TypeError naming the field for a bad verifier option', async () => {
    const app = Fastify()
    apps.push(app)
    await expect(
      app.register(jwtAuth, { issuers: [{ issuer: ISSUER, jwksUri } as never] }),
    ).rejects.toThrow(/issuers\[0\]\.audience/)
  })
})

describe('requests without a token', () => {
  it('reach public routes with principal === null', async () => {
    const app = await createApp()
    expect(await get(app, '/public')).toMatchObject({ status: 200, body: { who: null } })
  })

  it('count a header of another scheme as no token', async () => {
    const app = await createApp()
    const basic = `Basic ${Buffer.from('alice:secret').toString('base64')}`
    expect(await get(app, '/public', basic)).toMatchObject({ status: 200, body: { who: null } })
    expect(await get(app, '/me', basic)).toMatchObject({
      status: 401,
      challenge: 'Bearer realm="api"',
    })
  })

  it('are refused by every guard with 401 missing_token and a challenge without error', async () => {
    const app = await createApp()
    for (const url of ['/me', '/orders', '/either', '/acme']) {
      expect(await get(app, url)).toEqual({
        status: 401,
        challenge: 'Bearer realm="api"',
        body: { error: 'missing_token', error_description: 'Authentication is required' },
        text: expect.any(String) as unknown,
      })
    }
  })
})

describe('requests with a valid token', () => {
  it('carry the principal to public and authenticated routes', async () => {
    const app = await createApp()
    const jwt = await token()
    expect(await get(app, '/public', `Bearer ${jwt}`)).toMatchObject({
      status: 200,
      body: { who: `${ISSUER}|alice` },
    })
    expect(await get(app, '/me', `Bearer ${jwt}`)).toMatchObject({
      status: 200,
      body: { key: `${ISSUER}|alice` },
    })
  })

  it('accept the scheme in any case', async () => {
    const app = await createApp()
    const jwt = await token()
    expect((await get(app, '/me', `bEaReR ${jwt}`)).status).toBe(200)
  })
})

describe('requests with a token that fails verification', () => {
  it('get 401 invalid_token on every route, public ones and unknown paths included', async () => {
    const app = await createApp()
    const other = await createKey('ES256', { kid: key.kid })
    const forged = await token({}, other)
    const honest = await token()
    for (const url of ['/public', '/me', '/orders', '/no-such-route']) {
      const answer = await get(app, url, `Bearer ${forged}`)
      expect(answer).toMatchObject({
        status: 401,
        ...failure('invalid_token', 'The token signature is invalid'),
      })
      expectNoToken(forged, answer.text)
    }
    expect((await get(app, '/public', `Bearer ${honest}`)).body).toEqual({ who: `${ISSUER}|alice` })
  })

  it('answer an expired token with 401 invalid_token, and its fresh twin passes', async () => {
    const app = await createApp()
    const now = Math.floor(Date.now() / 1000)
    const expired = await token({ iat: now - 3600, exp: now - 600 })
    const answer = await get(app, '/public', `Bearer ${expired}`)
    expect(answer).toMatchObject({
      status: 401,
      ...failure('invalid_token', 'The token has expired'),
    })
    expectNoToken(expired, answer.text)
    expect((await get(app, '/public', `Bearer ${await token()}`)).status).toBe(200)
  })

  it('answer a malformed Authorization header with 400 invalid_request', async () => {
    const app = await createApp()
    const jwt = await token()
    const description = 'The Authorization header is not a single Bearer token'
    for (const header of ['Bearer', 'Bearer ', `Bearer ${jwt} ${jwt}`, `Bearer  ${jwt}`]) {
      const answer = await get(app, '/public', header)
      expect(answer).toMatchObject({ status: 400, ...failure('invalid_request', description) })
      expectNoToken(jwt, answer.text)
    }
  })

  it('answer a token whose JWKS server is down with 503 jwks_unavailable', async () => {
    const app = await createApp({ jwks: { timeoutDuration: 1000 } })
    const jwt = await token({ iss: DOWN_ISSUER })
    const answer = await get(app, '/public', `Bearer ${jwt}`)
    expect(answer).toMatchObject({
      status: 503,
      ...failure('jwks_unavailable', 'The issuer keys cannot be retrieved right now'),
    })
    expectNoToken(jwt, answer.text)
  })
})

describe('scope and principal guards', () => {
  it('requireScopes needs every scope: 403 insufficient_scope naming them otherwise', async () => {
    const app = await createApp()
    const partial = await token({ scope: 'orders:read' })
    const answer = await get(app, '/orders', `Bearer ${partial}`)
    expect(answer).toMatchObject({
      status: 403,
      ...failure(
        'insufficient_scope',
        'The token does not carry the required scope',
        ', scope="orders:read orders:write"',
      ),
    })
    expectNoToken(partial, answer.text)
    const full = await token({ scope: 'orders:read orders:write' })
    expect(await get(app, '/orders', `Bearer ${full}`)).toMatchObject({ status: 200 })
  })

  it('requireAnyScope needs one of the scopes', async () => {
    const app = await createApp()
    expect(
      (await get(app, '/either', `Bearer ${await token({ scp: ['orders:read'] })}`)).status,
    ).toBe(200)
    expect(await get(app, '/either', `Bearer ${await token({ scope: 'profile' })}`)).toMatchObject({
      status: 403,
      challenge: expect.stringContaining(', scope="admin orders:read"') as unknown,
    })
  })

  it('requirePrincipal applies a custom claim rule and refuses with 403 forbidden', async () => {
    const app = await createApp()
    expect((await get(app, '/acme', `Bearer ${await token({ tenant: 'acme' })}`)).status).toBe(200)
    const answer = await get(app, '/acme', `Bearer ${await token({ tenant: 'globex' })}`)
    expect(answer).toMatchObject({
      status: 403,
      ...failure('insufficient_scope', 'The principal is not allowed to access this resource'),
    })
  })
})

describe('logging', () => {
  it('uses the app logger: the untrusted_issuer line carries reqId and remoteAddress, never the token', async () => {
    const log = captureLogger()
    const app = await createApp({}, log)
    const before = idp.hits()
    const jwt = await token({ iss: 'https://evil.test' })
    const response = await app.inject({
      url: '/public',
      headers: { authorization: `Bearer ${jwt}` },
    })
    expect(response.statusCode).toBe(401)
    expect(response.json()).toEqual({
      error: 'invalid_token',
      error_description: 'The token issuer is not trusted',
    })
    expect(idp.hits()).toBe(before)
    const warn = log.lines.find((line) => line.event === 'untrusted_issuer')
    expect(warn).toMatchObject({
      level: 40,
      iss: 'https://evil.test',
      kid: key.kid,
      alg: 'ES256',
      reqId: expect.stringMatching(/^req-/) as unknown,
      remoteAddress: '127.0.0.1',
    })
    // Fastify's own request lines carry the same id: the warning belongs to that request.
    const ids = log.lines
      .filter((line) => line.msg === 'incoming request')
      .map((line) => line.reqId)
    expect(ids).toContain(warn?.reqId)
    expectNoToken(jwt, response.body, JSON.stringify(response.headers), ...log.raw)
  })

  it('still uses the app logger when the options say logger: undefined', async () => {
    const appLog = captureLogger()
    // exactOptionalPropertyTypes forbids it in TypeScript; a config object loaded from JSON does not.
    const app = await createApp({ logger: undefined } as never, appLog)
    await get(app, '/public', `Bearer ${await token({ iss: 'https://evil.test' })}`)
    expect(appLog.lines.some((line) => line.event === 'untrusted_issuer')).toBe(true)
  })

  it('uses the logger given in the options instead of the app logger', async () => {
    const own = captureLogger()
    const appLog = captureLogger()
    const app = await createApp({ logger: own.logger }, appLog)
    await get(app, '/public', `Bearer ${await token({ iss: 'https://evil.test' })}`)
    expect(own.lines.some((line) => line.event === 'untrusted_issuer')).toBe(true)
    expect(appLog.lines.some((line) => line.event === 'untrusted_issuer')).toBe(false)
  })
})

describe('the app error handler', () => {
  it('takes over with respond: false and sees code, reason, status and headers', async () => {
    const app = Fastify()
    apps.push(app)
    await app.register(jwtAuth, { issuers: issuers(), respond: false })
    const seen: unknown[] = []
    app.setErrorHandler((error: Error & Record<string, unknown>, _request, reply) => {
      seen.push({ code: error.code, reason: error.reason, status: error.status })
      return reply
        .code(error.statusCode as number)
        .headers(error.headers as Record<string, string>)
        .send({ problem: error.code })
    })
    app.get('/public', async () => ({ ok: true }))
    app.get('/me', { preHandler: app.authenticate }, async () => ({ ok: true }))
    app.get('/admin', { preHandler: app.requireScopes('admin') }, async () => ({ ok: true }))

    const expired = await token({ exp: Math.floor(Date.now() / 1000) - 600 })
    const bad = await get(app, '/public', `Bearer ${expired}`)
    expect(bad).toMatchObject({ status: 401, body: { problem: 'invalid_token' } })
    expect(bad.challenge).toContain('error="invalid_token"')
    expect(await get(app, '/me')).toMatchObject({ status: 401, body: { problem: 'missing_token' } })
    const scoped = await get(app, '/admin', `Bearer ${await token()}`)
    expect(scoped).toMatchObject({ status: 403, body: { problem: 'insufficient_scope' } })
    expect(seen).toEqual([
      { code: 'invalid_token', reason: 'expired', status: 401 },
      { code: 'missing_token', reason: 'missing_token', status: 401 },
      { code: 'insufficient_scope', reason: 'insufficient_scope', status: 403 },
    ])
  })

  it('falls back to Fastify default handler with respond: false, which keeps status and challenge', async () => {
    const app = await createApp({ respond: false })
    const answer = await get(app, '/me')
    expect(answer.status).toBe(401)
    expect(answer.challenge).toBe('Bearer realm="api"')
    expect(answer.body).toMatchObject({ statusCode: 401, code: 'missing_token' })
  })
})

describe('encapsulation', () => {
  it('registered in one child context, protects that sub-tree and leaves its sibling alone', async () => {
    const app = Fastify()
    apps.push(app)
    await app.register(async (api) => {
      await api.register(jwtAuth, { issuers: issuers() })
      api.get('/api/me', { preHandler: api.authenticate }, async (request) => ({
        key: request.principal?.key,
      }))
    })
    await app.register(async (site) => {
      site.get('/site', async (request) => ({
        decorated: site.hasDecorator('authenticate'),
        principal: request.principal === undefined ? 'absent' : 'present',
      }))
    })
    await app.ready()
    expect(app.hasDecorator('authenticate')).toBe(false)
    const forged = await token({}, await createKey('ES256', { kid: key.kid }))
    // The sibling never verifies: even a forged token is not its business.
    expect(await get(app, '/site', `Bearer ${forged}`)).toMatchObject({
      status: 200,
      body: { decorated: false, principal: 'absent' },
    })
    expect((await get(app, '/api/me', `Bearer ${forged}`)).status).toBe(401)
    expect(await get(app, '/api/me', `Bearer ${await token()}`)).toMatchObject({
      status: 200,
      body: { key: `${ISSUER}|alice` },
    })
  })
})

describe('a custom token source', () => {
  it('reads the token from getToken and ignores the Authorization header', async () => {
    const app = await createApp({
      getToken: (request) => {
        const value = request.headers['x-access-token']
        return typeof value === 'string' ? value : null
      },
    })
    const jwt = await token()
    const viaHeader = await app.inject({ url: '/me', headers: { 'x-access-token': jwt } })
    expect(viaHeader.json()).toEqual({ key: `${ISSUER}|alice` })
    expect((await get(app, '/me', `Bearer ${jwt}`)).status).toBe(401)
    const forged = await token({}, await createKey('ES256', { kid: key.kid }))
    const bad = await app.inject({ url: '/public', headers: { 'x-access-token': forged } })
    expect(bad.statusCode).toBe(401)
  })

  it('shows why a query-string token is discouraged: Fastify logs the URL with it', async () => {
    const log = captureLogger()
    const app = await createApp(
      {
        getToken: (request) => (request.query as Record<string, string | undefined>).access_token,
      },
      log,
    )
    const jwt = await token()
    const response = await app.inject({ url: `/me?access_token=${jwt}` })
    expect(response.statusCode).toBe(200)
    // Not a trustgate line: the framework's own access log. The token is now in the log files.
    expect(log.raw.some((line) => line.includes(jwt))).toBe(true)
  })
})

describe('over a real socket', () => {
  let app: FastifyInstance
  let origin: string
  const log = captureLogger()

  beforeAll(async () => {
    app = await createApp({}, log)
    origin = await app.listen({ port: 0, host: '127.0.0.1' })
  })

  it('serves fetch clients on 127.0.0.1', async () => {
    const jwt = await token({ scope: 'orders:read orders:write' })
    const ok = await fetch(`${origin}/orders`, { headers: { authorization: `Bearer ${jwt}` } })
    expect(ok.status).toBe(200)
    const none = await fetch(`${origin}/orders`)
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="api"')
  })

  it('answers two Authorization headers with 400, though Node keeps only the first in headers', async () => {
    const jwt = await token()
    const twice = await rawRequest(origin, '/public', [
      ['Authorization', `Bearer ${jwt}`],
      ['Authorization', `Bearer ${jwt}`],
    ])
    expect(twice.status).toBe(400)
    expect(twice.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_request", error_description="More than one Authorization header was sent"',
    )
    expect(JSON.parse(twice.body)).toEqual({
      error: 'invalid_request',
      error_description: 'More than one Authorization header was sent',
    })
    expectNoToken(jwt, twice.raw, ...log.raw)
    // The honest twin: the same token in one header.
    const once = await rawRequest(origin, '/public', [['authorization', `Bearer ${jwt}`]])
    expect(once.status).toBe(200)
    expect(JSON.parse(once.body)).toEqual({ who: `${ISSUER}|alice` })
  })

  it('also catches a second header of another case or after a Basic one', async () => {
    const jwt = await token()
    const mixed = await rawRequest(origin, '/public', [
      ['authorization', 'Basic YWxpY2U6c2VjcmV0'],
      ['AUTHORIZATION', `Bearer ${jwt}`],
    ])
    expect(mixed.status).toBe(400)
  })
})
