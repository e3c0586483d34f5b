/**
 * `trustgate doctor`, run as a child process: healthy against the demo's real OpenID provider,
 * and unhealthy, with the failing check named, against local servers that serve each broken case.
 */
import { generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'
import { createKey, jwks } from '../helpers/keys.js'
import { startProvider, type StartedProvider } from '../helpers/oidc.js'
import { startServer, type TestServer } from '../helpers/server.js'

interface Report {
  issuer: string
  healthy: boolean
  jwksUri: string | null
  checks: { id: string; verdict: string; detail: string; items: string[] }[]
  suggestedConfig: Record<string, unknown> | null
}

async function doctor(...args: string[]): Promise<{ code: number | null; report: Report }> {
  const { code, stdout } = await runCli(['doctor', ...args, '--json'])
  return { code, report: JSON.parse(stdout) as Report }
}

function verdictOf(
  report: Report,
  id: string,
): { verdict: string; detail: string; items: string[] } {
  const found = report.checks.find((check) => check.id === id)
  if (found === undefined) throw new Error(`no check ${id}`)
  return found
}

function weakRsaJwk(kid: string): Record<string, unknown> {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
  return { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }
}

describe('trustgate doctor against the demo provider', () => {
  let provider: StartedProvider
  beforeAll(async () => {
    provider = await startProvider()
  })
  afterAll(() => provider.stop())

  it('finds the issuer healthy and exits 0, with a verdict per check', async () => {
    const { code, stdout } = await runCli([
      'doctor',
      provider.issuer,
      '--audience',
      'https://api.example.test',
    ])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^PASS {2}issuer matches exactly/m)
    expect(stdout).toMatch(/^PASS {2}usable signing keys +2 usable signing keys/m)
    expect(stdout).toMatch(/^verdict: healthy/m)
  })

  it('prints the same as one JSON document with --json', async () => {
    const { code, report } = await doctor(provider.issuer)
    expect(code).toBe(0)
    expect(report.healthy).toBe(true)
    expect(report.jwksUri).toBe(`${provider.issuer}/jwks`)
    expect(report.checks.map((check) => check.id)).toEqual([
      'issuer_https',
      'discovery',
      'issuer_match',
      'jwks_uri_https',
      'jwks_fetch',
      'jwks_parse',
      'signing_keys',
      'rsa_sizes',
      'ec_curves',
      'alg_use',
      'unique_kids',
      'cache_control',
      'alg_hint',
    ])
    // Loopback http: works, and is said to be for development only.
    expect(verdictOf(report, 'issuer_https').verdict).toBe('warn')
    expect(verdictOf(report, 'rsa_sizes').items).toEqual([
      expect.stringMatching(/kty RSA\): 2048 bits$/),
    ])
    expect(verdictOf(report, 'ec_curves').items).toEqual([expect.stringMatching(/crv "P-256"$/)])
    expect(report.suggestedConfig).toMatchObject({
      discovery: true,
      algorithms: ['RS256', 'ES256'],
    })
  })
})

describe('trustgate doctor against broken issuers', () => {
  let server: TestServer
  let origin: string
  beforeAll(async () => {
    server = await startServer()
    origin = server.origin
  })
  afterAll(() => server.close())

  /** Serves discovery for `origin` + `path` with the given metadata, and a JWKS at `jwksPath`. */
  function discovery(metadata: Record<string, unknown>): void {
    server.route('/.well-known/openid-configuration', {
      kind: 'json',
      body: { issuer: origin, jwks_uri: `${origin}/jwks`, ...metadata },
    })
  }

  it('shows the trailing slash when the metadata issuer differs from the issuer', async () => {
    const key = await createKey('ES256')
    discovery({ issuer: `${origin}/` })
    server.route('/jwks', { kind: 'json', body: jwks(key) })
    const { code, report } = await doctor(origin)
    expect(code).toBe(1)
    expect(report.healthy).toBe(false)
    const match = verdictOf(report, 'issuer_match')
    expect(match.verdict).toBe('fail')
    expect(match.detail).toContain(`"${origin}/"`)
    expect(match.detail).toContain('trailing slash')
    // The honest twin: the same document with the exact issuer passes.
    discovery({})
    const twin = await doctor(origin)
    expect(twin.code).toBe(0)
    expect(verdictOf(twin.report, 'issuer_match').verdict).toBe('pass')
  })

  it('fails an http jwks_uri on a non-loopback host, and fetches nothing', async () => {
    discovery({ jwks_uri: 'http://keys.example.test/jwks' })
    const { code, report } = await doctor(origin)
    expect(code).toBe(1)
    expect(verdictOf(report, 'jwks_uri_https')).toMatchObject({
      verdict: 'fail',
      detail: expect.stringContaining('must use https:'),
    })
    expect(verdictOf(report, 'jwks_fetch').verdict).toBe('skip')
    discovery({})
  })

  it('fails a 1024-bit RSA key and says it is never used', async () => {
    const good = await createKey('ES256')
    server.route('/weak', { kind: 'json', body: { keys: [weakRsaJwk('old'), good.jwk] } })
    const { code, report } = await doctor(origin, '--jwks-uri', `${origin}/weak`)
    expect(code).toBe(1)
    expect(verdictOf(report, 'rsa_sizes')).toMatchObject({
      verdict: 'fail',
      items: [expect.stringMatching(/kid "old".*1024 bits/)],
    })
    const keys = verdictOf(report, 'signing_keys')
    expect(keys.detail).toBe('1 usable signing key, 1 skipped')
    expect(keys.items).toContainEqual(expect.stringMatching(/kid "old".*under 2048 bits/))
    // Discovery was not asked for: those checks are skipped, not failed.
    expect(verdictOf(report, 'discovery').verdict).toBe('skip')
  })

  it('fails two signing keys that share a kid', async () => {
    const a = await createKey('ES256', { kid: 'same' })
    const b = await createKey('ES256', { kid: 'same' })
    const c = await createKey('ES256', { kid: 'other' })
    server.route('/dup', { kind: 'json', body: jwks(a, b) })
    const { code, report } = await doctor(origin, '--jwks-uri', `${origin}/dup`)
    expect(code).toBe(1)
    expect(verdictOf(report, 'unique_kids')).toMatchObject({
      verdict: 'fail',
      items: ['kid "same" on keys #0, #1'],
    })
    server.route('/dup', { kind: 'json', body: jwks(a, c) })
    expect((await doctor(origin, '--jwks-uri', `${origin}/dup`)).code).toBe(0)
  })

  it('fails a set of encryption keys only, naming why each was skipped', async () => {
    const key = await createKey('RS256')
    server.route('/enc', {
      kind: 'json',
      body: { keys: [{ ...key.jwk, use: 'enc', alg: 'RSA-OAEP-256' }] },
    })
    const { code, report } = await doctor(origin, '--jwks-uri', `${origin}/enc`)
    expect(code).toBe(1)
    expect(verdictOf(report, 'signing_keys')).toMatchObject({
      verdict: 'fail',
      items: [expect.stringMatching(/skipped: not for signatures/)],
    })
  })

  it.each([
    ['a 404', { kind: 'json', body: {}, status: 404 } as const, [], /unexpected HTTP status 404/],
    ['a timeout', { kind: 'hang' } as const, ['--timeout', '300'], /no response within 300 ms/],
    [
      'a redirect',
      { kind: 'redirect', location: '/jwks' } as const,
      [],
      /unexpected HTTP status 302/,
    ],
    [
      'a 5 MB body',
      { kind: 'raw', body: Buffer.alloc(5 * 1024 * 1024, 0x20) } as const,
      [],
      /response larger than 1048576 bytes/,
    ],
  ])('fails the JWKS fetch on %s, as the verifier would', async (_name, route, extra, message) => {
    server.route('/broken', route)
    const { code, report } = await doctor(origin, '--jwks-uri', `${origin}/broken`, ...extra)
    expect(code).toBe(1)
    expect(verdictOf(report, 'jwks_fetch')).toMatchObject({
      verdict: 'fail',
      detail: expect.stringMatching(message),
    })
    expect(verdictOf(report, 'signing_keys').verdict).toBe('skip')
  })

  it('reports Cache-Control max-age when the issuer sends it', async () => {
    const key = await createKey('EdDSA')
    server.route('/cached', {
      kind: 'json',
      body: jwks(key),
      headers: { 'cache-control': 'public, max-age=3600' },
    })
    const { code, report } = await doctor(origin, '--jwks-uri', `${origin}/cached`)
    expect(code).toBe(0)
    expect(verdictOf(report, 'cache_control')).toMatchObject({
      verdict: 'pass',
      detail: expect.stringContaining('max-age 3600 s'),
    })
  })
})

describe('trustgate usage', () => {
  it.each([
    [[]],
    [['doctor']],
    [['doctor', 'https://a.example', 'https://b.example']],
    [['doctor', 'not a url']],
    [['doctor', 'https://a.example', '--timeout', 'soon']],
    [['doctor', 'https://a.example', '--frobnicate']],
    [['unknown']],
  ])('exits 2 on bad usage: %j', async (args) => {
    const { code, stderr, stdout } = await runCli(args)
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^usage:/m)
  })
})
