import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { JWKS_CHANNEL, type JwksMessage } from '../src/observe.js'
import { createVerifier } from '../src/verifier.js'
import { createKey, jwks, sign, type TestKey } from '../../../test/helpers/keys.js'
import { captureLogger } from '../../../test/helpers/log.js'
import { startServer, type TestServer } from '../../../test/helpers/server.js'

const STATIC = 'https://static.test'

let server: TestServer
let key: TestKey
const events: JwksMessage[] = []
const listener = (message: unknown): void => {
  events.push(message as JwksMessage)
}

beforeAll(async () => {
  key = await createKey('ES256')
  server = await startServer()
  server.route('/jwks', { kind: 'json', body: jwks(key) })
  server.route('/broken', { kind: 'raw', body: 'not json' })
  server.route('/hang', { kind: 'hang' })
})

afterAll(() => server.close())

afterEach(() => {
  unsubscribe(JWKS_CHANNEL, listener)
  events.length = 0
})

function verifierFor(path: string, jwksOptions: Record<string, number> = {}) {
  return createVerifier({
    logger: captureLogger().logger,
    jwks: jwksOptions,
    issuers: [
      { issuer: server.origin, audience: 'api', jwksUri: `${server.origin}${path}` },
      { issuer: STATIC, audience: 'api', keys: jwks(key) },
    ],
  })
}

describe('verifier.health()', () => {
  it('reports never_loaded, then fresh with the key count and the fetch time, with no network', async () => {
    const verifier = verifierFor('/jwks')
    server.resetHits()
    const before = verifier.health()
    expect(server.hits()).toBe(0)
    expect(before).toEqual({
      ready: false,
      issuers: [
        {
          issuer: server.origin,
          state: 'never_loaded',
          keys: 0,
          lastFetchAt: null,
          lastError: null,
        },
        { issuer: STATIC, state: 'static', keys: 1, lastFetchAt: null, lastError: null },
      ],
    })
    const token = await sign(key, { iss: server.origin, aud: 'api', sub: 'alice' })
    await verifier.verify(token)
    const after = verifier.health()
    expect(after.ready).toBe(true)
    expect(after.issuers[0]).toEqual({
      issuer: server.origin,
      state: 'fresh',
      keys: 1,
      lastFetchAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      lastError: null,
    })
    expect(server.hits()).toBe(1)
  })

  it('reports a failed fetch with a fixed message, never the response body, and cooling_down', async () => {
    const verifier = verifierFor('/broken')
    await expect(verifier.ready()).rejects.toThrow(
      `trustgate: the keys of "${server.origin}" could not be loaded`,
    )
    const health = verifier.health()
    expect(health.ready).toBe(false)
    expect(health.issuers[0]).toMatchObject({
      state: 'cooling_down',
      keys: 0,
      lastFetchAt: null,
      lastError: 'response is not JSON',
    })
    expect(JSON.stringify(health)).not.toContain('not json')
  })

  it('reports failing once the cooldown is over, and stale when a refresh fails', async () => {
    const verifier = verifierFor('/broken', { cooldownDuration: 0 })
    await expect(verifier.ready()).rejects.toThrow()
    expect(verifier.health().issuers[0]?.state).toBe('failing')
    // A set past its max age is stale, and still serves.
    const stale = verifierFor('/jwks', { cacheMaxAge: 0 })
    await stale.ready()
    expect(stale.health()).toMatchObject({
      ready: true,
      issuers: [{ state: 'stale', keys: 1 }, {}],
    })
  })
})

describe('verifier.ready()', () => {
  it('loads every remote issuer and resolves', async () => {
    const verifier = verifierFor('/jwks')
    server.resetHits()
    await verifier.ready()
    expect(server.hits('/jwks')).toBe(1)
    expect(verifier.health().ready).toBe(true)
    // Loaded keys are not fetched again.
    await verifier.ready()
    expect(server.hits('/jwks')).toBe(1)
  })

  it('rejects after the timeout, naming the issuer whose keys never came', async () => {
    const verifier = verifierFor('/hang')
    await expect(verifier.ready({ timeout: 100 })).rejects.toThrow(
      `trustgate: the keys of "${server.origin}" could not be loaded within 100 ms`,
    )
  })

  it('refuses a bad timeout', () => {
    const verifier = verifierFor('/jwks')
    expect(() => verifier.ready({ timeout: -1 })).toThrow(
      'trustgate: ready() timeout must be an integer number of milliseconds > 0',
    )
  })
})

describe('the trustgate:jwks channel', () => {
  it('publishes each fetch: updated, unchanged, failed, with no response body', async () => {
    subscribe(JWKS_CHANNEL, listener)
    const good = verifierFor('/jwks', { cacheMaxAge: 0, cooldownDuration: 0 })
    await good.ready()
    const token = await sign(key, { iss: server.origin, aud: 'api', sub: 'alice' })
    await good.verify(token) // past its max age: a background refresh of the same keys
    await new Promise((resolve) => setTimeout(resolve, 50))
    const bad = verifierFor('/broken')
    await expect(bad.ready()).rejects.toThrow()
    expect(events).toEqual([
      {
        issuer: server.origin,
        event: 'updated',
        keys: 1,
        error: null,
        durationMs: expect.any(Number),
      },
      {
        issuer: server.origin,
        event: 'unchanged',
        keys: 1,
        error: null,
        durationMs: expect.any(Number),
      },
      {
        issuer: server.origin,
        event: 'failed',
        keys: 0,
        error: 'response is not JSON',
        durationMs: expect.any(Number),
      },
    ])
  })
})
