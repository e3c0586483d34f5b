/**
 * examples/metrics: the Fastify example API with trustgate's OpenTelemetry metrics exposed to
 * Prometheus. A few good and bad requests against the real OpenID provider, then a scrape of
 * /metrics in the Prometheus text format, whose counts must match the requests exactly.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildMetricsApp } from '../../examples/metrics/app.js'
import { API_AUDIENCE, startProvider, tamper, type StartedProvider } from '../helpers/oidc.js'

/** The value of the sample of `name` whose labels include every one of `labels`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const wanted = Object.entries(labels).every(([key, value]) =>
      line.includes(`${key}="${value}"`),
    )
    if (wanted) return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return undefined
}

describe('the Prometheus metrics example', () => {
  let provider: StartedProvider
  let app: FastifyInstance
  let origin: string
  beforeAll(async () => {
    provider = await startProvider()
    app = await buildMetricsApp({
      auth: {
        issuers: [{ issuer: provider.issuer, audience: API_AUDIENCE, discovery: true }],
      },
      logger: false,
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    origin = `http://127.0.0.1:${String((app.server.address() as AddressInfo).port)}`
  })
  afterAll(async () => {
    await app.close()
    await provider.stop()
  })

  it('is alive at once, and ready once the keys are loaded', async () => {
    expect((await fetch(`${origin}/livez`)).status).toBe(200)
    const before = await fetch(`${origin}/readyz`)
    expect(before.status).toBe(503)
    expect(await before.json()).toMatchObject({
      ready: false,
      issuers: [{ issuer: provider.issuer, state: 'never_loaded' }],
    })
    await app.trustgate.ready()
    const after = await fetch(`${origin}/readyz`)
    expect(after.status).toBe(200)
    expect(await after.json()).toMatchObject({
      ready: true,
      issuers: [{ issuer: provider.issuer, state: 'fresh', keys: 2, lastError: null }],
    })
  })

  it('counts good and bad requests by outcome and reason, the cache, and the JWKS', async () => {
    const token = await provider.token('orders-service')
    const call = (authorization?: string): Promise<number> =>
      fetch(`${origin}/orders`, {
        headers: authorization === undefined ? {} : { authorization },
      }).then((response) => response.status)
    expect(await call(`Bearer ${token}`)).toBe(200)
    expect(await call(`Bearer ${token}`)).toBe(200)
    expect(await call(`Bearer ${token}`)).toBe(200)
    expect(await call(`Bearer ${tamper(token, { scope: 'orders:read admin' })}`)).toBe(401)
    expect(await call('Bearer not-a-jwt')).toBe(401)
    expect(await call()).toBe(401)

    const response = await fetch(`${origin}/metrics`)
    expect(response.status).toBe(200)
    const text = await response.text()
    const issuer = { trustgate_issuer: provider.issuer }
    expect(
      sample(text, 'trustgate_verifications_total', { ...issuer, trustgate_outcome: 'accepted' }),
    ).toBe(3)
    expect(
      sample(text, 'trustgate_verifications_total', {
        ...issuer,
        trustgate_outcome: 'refused',
        trustgate_code: 'invalid_token',
        trustgate_reason: 'bad_signature',
      }),
    ).toBe(1)
    // A token that names no configured issuer is counted under "none", never under its own iss.
    expect(
      sample(text, 'trustgate_verifications_total', {
        trustgate_issuer: 'none',
        trustgate_reason: 'malformed',
      }),
    ).toBe(1)
    expect(
      sample(text, 'trustgate_token_cache_lookups_total', { trustgate_cache_result: 'hit' }),
    ).toBe(2)
    expect(
      sample(text, 'trustgate_token_cache_lookups_total', { trustgate_cache_result: 'miss' }),
    ).toBe(3)
    expect(
      sample(text, 'trustgate_verify_duration_count', { ...issuer, trustgate_cached: 'true' }),
    ).toBe(2)
    expect(
      sample(text, 'trustgate_jwks_fetches_total', { ...issuer, trustgate_outcome: 'success' }),
    ).toBe(1)
    expect(sample(text, 'trustgate_jwks_keys', issuer)).toBe(2)
    expect(sample(text, 'trustgate_jwks_age', issuer)).toBeGreaterThanOrEqual(0)
    // Neither the token nor any part of it is in the scrape.
    for (const part of token.split('.')) expect(text).not.toContain(part)
  })
})

describe('without the metrics option', () => {
  it('never loads @opentelemetry/api: no static import of it, and no require at run time', () => {
    const dist = new URL('../../packages/core/dist/', import.meta.url)
    for (const file of readdirSync(dist).filter((name) => name.endsWith('.js'))) {
      expect(readFileSync(new URL(file, dist), 'utf8')).not.toMatch(/from ['"]@opentelemetry/)
    }
    const script = `
      import { createRequire } from 'node:module'
      import { createVerifier } from '@trustgate/core'
      const verifier = createVerifier({
        issuers: [{ issuer: 'https://a.test', audience: 'api', jwksUri: 'https://a.test/jwks' }],
      })
      await verifier.verify('a.b.c').catch(() => undefined)
      const loaded = Object.keys(createRequire(import.meta.url).cache)
      console.log(loaded.filter((path) => path.includes('@opentelemetry')).length)
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('../../examples', import.meta.url),
      encoding: 'utf8',
    })
    expect(out.trim()).toBe('0')
  })
})
