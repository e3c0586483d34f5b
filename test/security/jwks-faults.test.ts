/**
 * A misbehaving JWKS endpoint (API.md, key-set rules): slow past the timeout, 5xx, garbage, 10 MB,
 * a redirect to another origin, connection resets, flapping and shrinking key sets. Each is a
 * failed fetch: `jwks_unavailable` with nothing cached, cached keys serving otherwise, the cooldown
 * bounding the requests, and recovery without a restart. Real server on 127.0.0.1, real waits of a
 * few hundred milliseconds (no timing is asserted, only outcomes and request counts).
 */
import { createVerifier, type VerifierOptions } from '@trustgate/core'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAccepted, expectRefused, keyOf, createHarness } from '../helpers/attacks.js'
import { expectRejection, invalidToken } from '../helpers/auth-error.js'
import { createKey, jwks, sign, type TestKey } from '../helpers/keys.js'
import { captureLogger, type CapturedLogger } from '../helpers/log.js'
import { startServer, type Route, type TestServer } from '../helpers/server.js'

const TIMEOUT_MS = 150
// Longer than the timeout: the cooldown counts from the start of the attempt.
const COOLDOWN_MS = 250
const UNAVAILABLE = { code: 'jwks_unavailable', reason: 'jwks_unavailable', status: 503 }

let idp: TestServer
let attacker: TestServer
let k1: TestKey
let k2: TestKey
let log: CapturedLogger

beforeAll(async () => {
  ;[idp, attacker] = await Promise.all([startServer(), startServer()])
  ;[k1, k2] = await Promise.all([createKey('ES256'), createKey('ES256')])
  attacker.route('/jwks', { kind: 'json', body: jwks(k1, k2) })
  log = captureLogger()
})
afterAll(async () => {
  await Promise.all([idp.close(), attacker.close()])
})

let paths = 0
/** A fresh JWKS path on the IdP and a verifier for it (the issuer is the path's URL). */
function issuerAt(
  route: Route,
  jwksOptions: VerifierOptions['jwks'] = {},
): {
  iss: string
  path: string
  options: VerifierOptions
} {
  const path = `/case-${String(++paths)}`
  idp.route(path, route)
  const iss = `${idp.origin}${path}`
  return {
    iss,
    path,
    options: {
      logger: log.logger,
      issuers: [{ issuer: iss, audience: 'api', jwksUri: iss }],
      jwks: { timeoutDuration: TIMEOUT_MS, cooldownDuration: COOLDOWN_MS, ...jwksOptions },
    },
  }
}

function tokenFor(key: TestKey, iss: string): Promise<string> {
  return sign(key, { iss, sub: 'alice', aud: 'api' })
}

const TEN_MB = 10 * 1024 * 1024

const FAULTS: [string, () => Route][] = [
  ['hangs past the timeout', () => ({ kind: 'hang' })],
  ['answers 500', () => ({ kind: 'json', status: 500, body: { error: 'down' } })],
  ['answers 503 with a valid key set', () => ({ kind: 'json', status: 503, body: jwks(k1) })],
  ['answers 404', () => ({ kind: 'raw', status: 404, body: 'not found' })],
  ['answers garbage', () => ({ kind: 'raw', body: '<html>\u0000\ufffd not json' })],
  ['answers invalid UTF-8', () => ({ kind: 'raw', body: Buffer.from([0x7b, 0xff, 0x7d]) })],
  ['answers JSON that is not a JWK Set', () => ({ kind: 'json', body: { keys: 'k1' } })],
  ['answers an empty JWK Set', () => ({ kind: 'json', body: { keys: [] } })],
  [
    'answers only unusable keys',
    () => ({
      kind: 'json',
      body: {
        keys: [
          { kty: 'oct', k: 'AAAA' },
          { ...k1.jwk, use: 'enc' },
        ],
      },
    }),
  ],
  [
    'answers a 10 MB body with content-length',
    () => ({ kind: 'raw', body: Buffer.alloc(TEN_MB, 0x20) }),
  ],
  [
    'redirects (302) to the attacker',
    () => ({ kind: 'redirect', location: `${attacker.origin}/jwks` }),
  ],
  [
    'redirects (307) to the attacker',
    () => ({ kind: 'redirect', status: 307, location: `${attacker.origin}/jwks` }),
  ],
  [
    'redirects (308) to the attacker',
    () => ({ kind: 'redirect', status: 308, location: `${attacker.origin}/jwks` }),
  ],
  ['resets the connection', () => ({ kind: 'destroy' })],
  [
    'answers slowly, after the timeout',
    () => ({ kind: 'json', body: jwks(k1), delayMs: TIMEOUT_MS + 300 }),
  ],
]

describe('a JWKS endpoint that fails', () => {
  for (const [name, route] of FAULTS) {
    it(`refuses with jwks_unavailable when it ${name}, then recovers once it is fixed`, async () => {
      const { iss, path, options } = issuerAt(route())
      const verifier = createVerifier(options)
      const token = await tokenFor(k1, iss)
      await expectRejection(verifier.verify(token), UNAVAILABLE, token, log.raw)
      expect(idp.hits(path)).toBe(1)
      // Within the cooldown the outage costs no further request.
      await expectRejection(verifier.verify(token), UNAVAILABLE, token, log.raw)
      expect(idp.hits(path)).toBe(1)
      idp.route(path, { kind: 'json', body: jwks(k1) })
      await sleep(COOLDOWN_MS + 50)
      expect((await verifier.verify(token)).key).toBe(keyOf(iss, 'alice'))
      expect(idp.hits(path)).toBe(2)
      expect(attacker.hits()).toBe(0)
    })
  }

  it('stops reading a 10 MB body streamed without content-length at the 1 MiB cap', async () => {
    let sent = 0
    let closed = false
    const { iss, options } = issuerAt({
      kind: 'handler',
      handle: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        const chunk = Buffer.alloc(64 * 1024, 0x20)
        res.on('close', () => (closed = true))
        const pump = (): void => {
          while (!closed && sent < TEN_MB) {
            sent += chunk.length
            if (!res.write(chunk)) {
              res.once('drain', pump)
              return
            }
          }
          if (!closed) res.end()
        }
        pump()
      },
    })
    const token = await tokenFor(k1, iss)
    await expectRejection(createVerifier(options).verify(token), UNAVAILABLE, token, log.raw)
    await sleep(50)
    expect(closed).toBe(true)
    expect(sent).toBeLessThan(TEN_MB)
  })

  it('answers 503 with the same challenge and body through both adapters', async () => {
    const { iss, path, options } = issuerAt({ kind: 'json', status: 500, body: {} })
    const harness = await createHarness(options)
    try {
      const token = await tokenFor(k1, iss)
      expectRefused(
        await harness.run(token),
        { code: 'jwks_unavailable', reason: 'jwks_unavailable' },
        token,
        log.raw,
      )
      // Twin: the same token, accepted through all three paths once the endpoint is healthy again.
      idp.route(path, { kind: 'json', body: jwks(k1) })
      await sleep(COOLDOWN_MS + 50)
      expectAccepted(await harness.run(token), keyOf(iss, 'alice'))
    } finally {
      await harness.close()
    }
  })

  it('logs each failed fetch with the URL and cause, never a token', async () => {
    const failures = log.lines.filter((line) => line.event === 'jwks_fetch_failed')
    expect(failures.length).toBeGreaterThanOrEqual(FAULTS.length)
    for (const line of failures) {
      expect(line.level).toBe(50)
      expect(String(line.jwksUri)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/case-\d+$/)
      expect(typeof line.error).toBe('string')
    }
    for (const raw of log.raw) expect(raw).not.toMatch(/eyJ[A-Za-z0-9_-]+\.eyJ/)
  })
})

describe('an outage with keys cached', () => {
  it('keeps serving the cached keys while the endpoint is down, and refetches after the cooldown', async () => {
    const { iss, path, options } = issuerAt({ kind: 'json', body: jwks(k1) }, { cacheMaxAge: 100 })
    const verifier = createVerifier({ ...options, tokenCache: false })
    const token = await tokenFor(k1, iss)
    expect((await verifier.verify(token)).subject).toBe('alice')
    idp.route(path, { kind: 'json', status: 500, body: {} })
    // Past both the max age and the cooldown, which also spaces the refreshes of a stale set.
    await sleep(COOLDOWN_MS + 50)
    for (let i = 0; i < 20; i++) expect((await verifier.verify(token)).subject).toBe('alice')
    await sleep(50)
    for (let i = 0; i < 20; i++) expect((await verifier.verify(token)).subject).toBe('alice')
    // The stale set triggered one refresh, which failed; the cooldown holds back the others.
    expect(idp.hits(path)).toBe(2)
    // A kid it never saw is unknown, not unavailable: keys are cached.
    const other = await tokenFor(k2, iss)
    await expectRejection(verifier.verify(other), invalidToken('unknown_kid'), other, log.raw)
  })
})

describe('key sets that change', () => {
  it('refuses a token signed with a removed key once the set is refreshed, token cache on', async () => {
    const { iss, path, options } = issuerAt(
      { kind: 'json', body: jwks(k1, k2) },
      { cacheMaxAge: 100, cooldownDuration: 150 },
    )
    const verifier = createVerifier(options)
    const removed = await tokenFor(k1, iss)
    const kept = await tokenFor(k2, iss)
    expect((await verifier.verify(removed)).subject).toBe('alice')
    expect((await verifier.verify(kept)).subject).toBe('alice')
    idp.route(path, { kind: 'json', body: jwks(k2) })
    await sleep(200)
    // This use finds the set stale and starts the refresh; wait for it to land.
    await verifier.verify(kept)
    await sleep(50)
    expect(idp.hits(path)).toBe(2)
    await expectRejection(verifier.verify(removed), invalidToken('unknown_kid'), removed, log.raw)
    expect((await verifier.verify(kept)).subject).toBe('alice')
    // The log line counts the keys rather than list them (issue 9, item 8).
    expect(
      log.lines.some((l) => l.event === 'jwks_updated' && l.removed === 1 && l.keys === 1),
    ).toBe(true)
  })

  it('refuses the removed key through both adapters as well, and accepts the kept one', async () => {
    const { iss, path, options } = issuerAt(
      { kind: 'json', body: jwks(k1, k2) },
      { cooldownDuration: 0 },
    )
    const harness = await createHarness(options)
    try {
      const removed = await tokenFor(k1, iss)
      const kept = await tokenFor(k2, iss)
      expectAccepted(await harness.run(removed), keyOf(iss, 'alice'))
      idp.route(path, { kind: 'json', body: jwks(k2) })
      // An unknown kid (cooldown 0) refetches the set, which now lacks k1.
      const fresh = await sign(
        k2,
        { iss, sub: 'bob', aud: 'api' },
        { header: { kid: 'rotated-away' } },
      )
      expectRefused(await harness.run(fresh), { reason: 'unknown_kid' }, fresh, log.raw)
      expectRefused(await harness.run(removed), { reason: 'unknown_kid' }, removed, log.raw)
      expectAccepted(await harness.run(kept), keyOf(iss, 'alice'))
    } finally {
      await harness.close()
    }
  })

  it('follows a flapping key set: each token verifies while its key is published, never otherwise', async () => {
    let flip = 0
    const { iss, path, options } = issuerAt(
      {
        kind: 'handler',
        handle: (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(JSON.stringify(flip++ % 2 === 0 ? jwks(k1) : jwks(k2)))
        },
      },
      { cooldownDuration: 0 },
    )
    const verifier = createVerifier({ ...options, tokenCache: false })
    const t1 = await tokenFor(k1, iss)
    const t2 = await tokenFor(k2, iss)
    // Cooldown 0: each unknown kid refetches, which flips the set to the other key.
    for (let i = 0; i < 10; i++) {
      expect((await verifier.verify(i % 2 === 0 ? t1 : t2)).subject).toBe('alice')
    }
    expect(idp.hits(path)).toBe(10)
    // With a cooldown, the flap stops costing requests: the key not in the current set is refused.
    const slow = createVerifier({ ...options, jwks: { ...options.jwks, cooldownDuration: 60_000 } })
    const first = flip % 2 === 0 ? t1 : t2
    const second = first === t1 ? t2 : t1
    expect((await slow.verify(first)).subject).toBe('alice')
    for (let i = 0; i < 20; i++)
      await expectRejection(slow.verify(second), invalidToken('unknown_kid'), second, log.raw)
    expect(idp.hits(path)).toBe(11)
  })
})
