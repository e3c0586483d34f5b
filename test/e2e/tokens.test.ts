/**
 * End to end, for both frameworks: the example APIs in front of a real OpenID provider
 * (oidc-provider, client-credentials grant, RFC 9068 JWT access tokens signed with RS256 and
 * ES256), fetched over HTTP, with a second provider nobody trusts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  API_AUDIENCE,
  claimsOf,
  FRAMEWORKS,
  issuerConfig,
  startApi,
  startProvider,
  tamper,
  type Api,
  type ApiResponse,
  type StartedProvider,
} from '../helpers/oidc.js'

interface Expected {
  status: number
  error: string
  description: string
  /** Extra challenge attributes after error_description. */
  extra?: string
}

/** Asserts the RFC 6750 answer, and that the token shows up in neither it nor the API's log. */
function expectRejected(api: Api, response: ApiResponse, expected: Expected, token: string): void {
  expect(response.status).toBe(expected.status)
  expect(response.body).toEqual({ error: expected.error, error_description: expected.description })
  expect(response.headers['www-authenticate']).toBe(
    `Bearer realm="api", error="${expected.error}", error_description="${expected.description}"${expected.extra ?? ''}`,
  )
  expectNoLeak(api, response, token)
}

function expectNoLeak(api: Api, response: ApiResponse, token: string): void {
  const signature = token.split('.')[2] ?? token
  const visible = [response.text, JSON.stringify(response.headers), ...api.log.raw]
  for (const text of visible) {
    expect(text.includes(token)).toBe(false)
    expect(text.includes(signature)).toBe(false)
  }
}

let trusted: StartedProvider
let untrusted: StartedProvider

beforeAll(async () => {
  trusted = await startProvider()
  untrusted = await startProvider()
})

afterAll(async () => {
  await trusted.stop()
  await untrusted.stop()
})

describe.each(FRAMEWORKS)('%s example API against a real OpenID provider', (framework) => {
  let api: Api
  let ordersToken: string // orders-service: ES256, orders:read orders:write
  let reportsToken: string // reporting-job: RS256, reports:read

  beforeAll(async () => {
    api = await startApi(framework, { issuers: [issuerConfig(trusted.issuer)] })
    ordersToken = await trusted.token('orders-service')
    reportsToken = await trusted.token('reporting-job')
  })

  afterAll(async () => {
    await api.close()
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  it('issues RFC 9068 access tokens signed with ES256 and RS256 keys of the provider', () => {
    const header = (token: string) =>
      JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as Record<
        string,
        unknown
      >
    expect(header(ordersToken)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' })
    expect(header(reportsToken)).toMatchObject({ alg: 'RS256', typ: 'at+jwt' })
    const published = trusted.jwks.keys.map((key) => key.kid)
    expect(published).toContain(header(ordersToken).kid)
    expect(published).toContain(header(reportsToken).kid)
  })

  it('accepts a real ES256 token with the principal key, issuer, subject and scopes it carries', async () => {
    const response = await api.get('/me', ordersToken)
    expect(response.status).toBe(200)
    expect(response.body).toEqual({
      key: `${trusted.issuer}|orders-service`,
      issuer: trusted.issuer,
      subject: 'orders-service',
      scopes: ['orders:read', 'orders:write'],
    })
    expect(claimsOf(ordersToken)).toMatchObject({ aud: API_AUDIENCE, client_id: 'orders-service' })
    expectNoLeak(api, response, ordersToken)
  })

  it('accepts a real RS256 token with the principal key, issuer, subject and scopes it carries', async () => {
    const response = await api.get('/me', reportsToken)
    expect(response.status).toBe(200)
    expect(response.body).toEqual({
      key: `${trusted.issuer}|reporting-job`,
      issuer: trusted.issuer,
      subject: 'reporting-job',
      scopes: ['reports:read'],
    })
  })

  it('lets a caller without a token reach the public route and nothing else', async () => {
    const open = await api.get('/health')
    expect(open.status).toBe(200)
    expect(open.body).toEqual({ ok: true, caller: null })

    const guarded = await api.get('/me')
    expect(guarded.status).toBe(401)
    expect(guarded.body).toEqual({
      error: 'missing_token',
      error_description: 'Authentication is required',
    })
    expect(guarded.headers['www-authenticate']).toBe('Bearer realm="api"')
  })

  it('serves the scope-guarded route to a token with the scope and refuses one without it', async () => {
    const allowed = await api.get('/orders', ordersToken)
    expect(allowed.status).toBe(200)
    expect(allowed.body.caller).toBe(`${trusted.issuer}|orders-service`)

    const refused = await api.get('/orders', reportsToken)
    expectRejected(
      api,
      refused,
      {
        status: 403,
        error: 'insufficient_scope',
        description: 'The token does not carry the required scope',
        extra: ', scope="orders:read"',
      },
      reportsToken,
    )
  })

  it('refuses a token the provider issued without the scope the client asked for', async () => {
    // The provider grants only what the client may have: reporting-job asking for orders:read
    // gets a token without it, which the guard refuses; asking for its own scope works.
    const token = await trusted.token('reporting-job', { scope: 'orders:read reports:read' })
    expect(claimsOf(token).scope).toBe('reports:read')
    expect((await api.get('/orders', token)).status).toBe(403)
    expect((await api.get('/me', token)).status).toBe(200)
  })

  it('rejects a real token whose payload was edited, and accepts the same token unedited', async () => {
    const widened = tamper(reportsToken, { scope: 'reports:read orders:read' })
    const response = await api.get('/orders', widened)
    expectRejected(
      api,
      response,
      { status: 401, error: 'invalid_token', description: 'The token signature is invalid' },
      widened,
    )
    expect((await api.get('/me', reportsToken)).status).toBe(200)
  })

  it('rejects a token from an untrusted provider without a request to it, and logs a warning', async () => {
    // Same client, same audience, same scopes: only the issuer differs from the honest twin.
    const stranger = await untrusted.token('orders-service')
    const strangerClaims = claimsOf(stranger)
    expect(strangerClaims.iss).toBe(untrusted.issuer)
    expect({ ...strangerClaims, iss: trusted.issuer, jti: 0, iat: 0, exp: 0 }).toEqual({
      ...claimsOf(ordersToken),
      jti: 0,
      iat: 0,
      exp: 0,
    })
    const hitsBefore = untrusted.hits()
    const warningsBefore = api.log.lines.filter((line) => line.event === 'untrusted_issuer').length

    const response = await api.get('/orders', stranger)

    expectRejected(
      api,
      response,
      { status: 401, error: 'invalid_token', description: 'The token issuer is not trusted' },
      stranger,
    )
    expect(untrusted.hits()).toBe(hitsBefore)
    const warnings = api.log.lines.filter((line) => line.event === 'untrusted_issuer')
    expect(warnings).toHaveLength(warningsBefore + 1)
    const header = JSON.parse(Buffer.from(stranger.split('.')[0] ?? '', 'base64url').toString())
    expect(warnings.at(-1)).toMatchObject({
      level: 40,
      iss: untrusted.issuer,
      kid: header.kid,
      alg: 'ES256',
      remoteAddress: expect.any(String),
    })
    expect((await api.get('/orders', ordersToken)).status).toBe(200)
  })

  it('rejects a real token once it has expired, after accepting it while it was valid', async () => {
    const token = await trusted.token('orders-service')
    const { exp } = claimsOf(token) as { exp: number }
    expect((await api.get('/me', token)).status).toBe(200)

    // The verifier's clock only: the provider keeps running on real time.
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime((exp - 1) * 1000)
    expect((await api.get('/me', token)).status).toBe(200)
    // Past exp and the default 5 s clock tolerance.
    vi.setSystemTime((exp + 6) * 1000)
    const response = await api.get('/me', token)
    expectRejected(
      api,
      response,
      { status: 401, error: 'invalid_token', description: 'The token has expired' },
      token,
    )
  })
})
