import { createHmac, randomUUID } from 'node:crypto'
import diagnostics from 'node:diagnostics_channel'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier } from '../src/verifier.js'
import {
  TOKEN_CACHE_HEAVY_ENTRY_BYTES,
  TOKEN_CACHE_MAX_BYTES,
  TOKEN_CACHE_MAX_ENTRY_BYTES,
  BoundedLru,
  estimateEntryBytes,
  type BoundedLruLimits,
} from '../src/token-cache.js'
import type { Principal } from '../src/principal.js'
import { createKey, jwks, sign, type TestKey } from '../../../test/helpers/keys.js'
import { startServer, type TestServer } from '../../../test/helpers/server.js'
import { captureLogger } from '../../../test/helpers/log.js'

const SECRET = 'a secret of at least thirty-two bytes, for HS256'
const ISS = 'https://cache.test'
const RESOLVED = 'https://resolved.cache.test'
const RESOLVED_SECRET = `resolved-${randomUUID()}-secret`

// Hand-made HS256 tokens: thousands are needed, and Node's HMAC is quicker than jose's signer.
function hs256(claims: Record<string, unknown>, secret = SECRET): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const input = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

function claims(extra: Record<string, unknown>): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  return { iss: ISS, aud: 'api', iat: now, exp: now + 3600, ...extra }
}

// The estimated size of each entry, as the tests choose it: set by put() before each set().
const sizes = new Map<string, number>()

function limits(overrides: Partial<BoundedLruLimits<unknown>> = {}): BoundedLruLimits<unknown> {
  return {
    max: 3,
    maxBytes: 1000,
    maxEntryBytes: 400,
    heavyEntryBytes: 100,
    sizeOf: (_value, key) => sizes.get(key) ?? 0,
    ...overrides,
  }
}

function put(cache: BoundedLru<unknown>, key: string, value: unknown, bytes: number): boolean {
  sizes.set(key, bytes)
  return cache.set(key, value)
}

describe('BoundedLru', () => {
  it('evicts the least recently used entry beyond max, a hit counting as a use', () => {
    const cache = new BoundedLru<unknown>(limits())
    for (const key of ['a', 'b', 'c']) put(cache, key, key.toUpperCase(), 10)
    expect(cache.get('a')).toBe('A')
    put(cache, 'd', 'D', 10) // evicts b
    expect([cache.get('b'), cache.get('c'), cache.get('a'), cache.get('d')]).toEqual([
      undefined,
      'C',
      'A',
      'D',
    ])
    put(cache, 'e', 'E', 10) // evicts c
    expect(cache.get('c')).toBeUndefined()
    expect(cache.size).toBe(3)
    expect(cache.bytes).toBe(30)
  })

  it('evicts by estimated bytes, and accounts for deletes and replacements', () => {
    const cache = new BoundedLru<unknown>(limits({ max: 100, heavyEntryBytes: 400 }))
    for (let i = 0; i < 10; i++) put(cache, String(i), i, 100)
    expect(cache.bytes).toBe(1000)
    put(cache, '10', 10, 250) // evicts 0, 1, 2
    expect([cache.get('0'), cache.get('2'), cache.get('3')]).toEqual([undefined, undefined, 3])
    expect(cache.bytes).toBe(950)
    put(cache, '3', 3, 50) // a replacement is counted once
    cache.delete('4')
    cache.delete('no such key')
    expect(cache.bytes).toBe(800)
    expect(cache.size).toBe(7)
  })

  it('never keeps an entry over maxEntryBytes, and keeps nothing with max 0', () => {
    const cache = new BoundedLru<unknown>(limits())
    put(cache, 'light', 'kept', 10)
    expect(put(cache, 'huge', 'not kept', 401)).toBe(false)
    expect(cache.get('huge')).toBeUndefined()
    expect(cache.get('light')).toBe('kept')
    const off = new BoundedLru<unknown>(limits({ max: 0 }))
    expect(put(off, 'a', 'a', 1)).toBe(false)
    expect(off.size).toBe(0)
  })

  it('gives heavy entries a quarter of the bytes, evicting each other rather than light ones', () => {
    const cache = new BoundedLru<unknown>(
      limits({ max: 100, maxBytes: 1000, heavyEntryBytes: 100 }),
    )
    for (let i = 0; i < 7; i++) put(cache, `light${String(i)}`, 'light', 100)
    // Each heavy entry is 120 bytes; the heavy share is 250: two fit, the oldest goes first.
    for (let i = 0; i < 20; i++) put(cache, `heavy${String(i)}`, 'heavy', 120)
    expect(cache.get('heavy17')).toBeUndefined()
    expect([cache.get('heavy18'), cache.get('heavy19')]).toEqual(['heavy', 'heavy'])
    for (let i = 0; i < 7; i++) expect(cache.get(`light${String(i)}`)).toBe('light')
    expect(cache.bytes).toBe(940)
  })

  it('never evicts a light entry for a heavy one: with no other room, the heavy entry is not kept', () => {
    const cache = new BoundedLru<unknown>(limits({ max: 3, maxBytes: 1000, heavyEntryBytes: 100 }))
    for (const key of ['a', 'b', 'c']) put(cache, key, 'light', 50)
    expect(put(cache, 'heavy', 'heavy', 150)).toBe(false)
    expect([cache.get('a'), cache.get('b'), cache.get('c'), cache.get('heavy')]).toEqual([
      'light',
      'light',
      'light',
      undefined,
    ])
    // A light entry still evicts the least recently used one (a).
    put(cache, 'd', 'light', 50)
    expect(cache.get('a')).toBeUndefined()
  })

  it('estimates a token of many tiny objects far above its length', () => {
    const principal = {
      scopes: [],
      claims: { o: Array.from({ length: 1000 }, () => ({})) },
    } as unknown as Principal
    expect(estimateEntryBytes('x'.repeat(3000), principal)).toBeGreaterThan(70_000)
  })
})

describe('heavy tokens cannot evict everyone (issue 9, item 14)', () => {
  it('keeps 10,000 honest entries while 8 heavy tokens are sent 128 times, and 400 tokens just under the entry cap once each', async () => {
    expect(TOKEN_CACHE_MAX_ENTRY_BYTES).toBe(64 * 1024)
    expect(TOKEN_CACHE_HEAVY_ENTRY_BYTES).toBe(8 * 1024)
    const verifier = createVerifier({
      issuers: [{ issuer: ISS, audience: 'api', secret: SECRET }],
      logger: captureLogger().logger,
    })
    const honest = Array.from({ length: 10_000 }, (_, i) =>
      hs256(claims({ sub: `user-${String(i)}`, scope: 'orders:read orders:write' })),
    )
    const principals: Principal[] = []
    for (const token of honest) principals.push(await verifier.verify(token))

    // The heavy token: as many `{}` as 16 KB of token holds, about 300 KB estimated.
    const heavy = Array.from({ length: 8 }, (_, i) =>
      hs256(claims({ sub: `heavy-${String(i)}`, o: Array.from({ length: 3900 }, () => ({})) })),
    )
    expect(heavy.every((token) => token.length <= 16_384)).toBe(true)
    for (let round = 0; round < 128; round++) {
      for (const token of heavy) expect((await verifier.verify(token)).subject).toMatch(/^heavy/)
    }
    // Tokens just under the entry cap are cached, in the heavy share only: 400 x ~55 KB is
    // more than half of the whole budget, more than would fit beside 10,000 honest entries.
    const medium = Array.from({ length: 400 }, (_, i) =>
      hs256(claims({ sub: `medium-${String(i)}`, o: Array.from({ length: 700 }, () => ({})) })),
    )
    expect(400 * 50_000).toBeGreaterThan(TOKEN_CACHE_MAX_BYTES / 2)
    for (const token of medium) await verifier.verify(token)

    // Every honest entry is still the cached principal: none was evicted.
    let kept = 0
    for (const [i, token] of honest.entries()) {
      if ((await verifier.verify(token)) === principals[i]) kept++
    }
    expect(kept).toBe(10_000)
  })
})

// Every diagnostics channel that the core's dependencies publish on: lru-cache (which the core
// used before) and pino (its default logger). A subscriber makes a channel active, so anything
// that would publish on it, does.
const CHANNELS = ['lru-cache:metrics']
const TRACING_CHANNELS = ['lru-cache', 'pino_asJson']
const TRACING_EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const

/** Every string reachable from `root` (keys too), and every object, walking at most `limit` nodes. */
function reachable(root: unknown, limit = 200_000): { strings: string[]; objects: Set<object> } {
  const strings: string[] = []
  const objects = new Set<object>()
  const pending: unknown[] = [root]
  while (pending.length > 0 && objects.size < limit) {
    const value = pending.pop()
    if (typeof value === 'string') strings.push(value)
    else if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
      if (objects.has(value)) continue
      objects.add(value)
      if (value instanceof Map) pending.push(...value.keys(), ...value.values())
      else if (value instanceof Set) pending.push(...value)
      for (const name of Reflect.ownKeys(value)) {
        if (typeof name === 'string') strings.push(name)
        try {
          pending.push((value as Record<string | symbol, unknown>)[name])
        } catch {
          // A getter that throws holds nothing we could read.
        }
      }
    }
  }
  return { strings, objects }
}

describe('no credential reaches a diagnostics channel (issue 9, item 13)', () => {
  let server: TestServer
  let key: TestKey
  beforeAll(async () => {
    server = await startServer()
    key = await createKey('ES256', { kid: 'k1' })
    server.route('/jwks', { kind: 'json', body: jwks(key) })
  })
  afterAll(async () => {
    await server.close()
  })

  it('publishes no token, signature, claim or principal on lru-cache or pino channels, over hits, misses, evictions, rejections and logging', async () => {
    const messages: { channel: string; message: unknown }[] = []
    const unsubscribe: (() => void)[] = []
    const listen = (name: string) => {
      const onMessage = (message: unknown) => messages.push({ channel: name, message })
      diagnostics.subscribe(name, onMessage)
      unsubscribe.push(() => diagnostics.unsubscribe(name, onMessage))
    }
    for (const name of CHANNELS) listen(name)
    for (const name of TRACING_CHANNELS) {
      for (const event of TRACING_EVENTS) listen(`tracing:${name}:${event}`)
    }
    try {
      // A real pino logger, so that its asJson tracing channel fires on every line it writes.
      let written = ''
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          written += chunk.toString()
          done()
        },
      })
      const logger = pino({ level: 'debug' }, sink)
      const remote = server.origin
      const verifier = createVerifier({
        logger,
        tokenCache: { max: 4 },
        issuers: [
          { issuer: ISS, audience: 'api', secret: SECRET },
          { issuer: remote, audience: 'api', jwksUri: `${remote}/jwks` },
        ],
        // Issuers added at run time are cached too, with their keys: that cache must not publish.
        resolveIssuer: (iss) =>
          iss === RESOLVED ? { issuer: RESOLVED, audience: 'api', secret: RESOLVED_SECRET } : null,
      })
      const marker = `claim-${randomUUID()}`
      const secrets: string[] = [marker, RESOLVED_SECRET]
      const principals: Principal[] = []
      const tokens = Array.from({ length: 10 }, (_, i) =>
        hs256(claims({ sub: `subject-${marker}-${String(i)}`, private: marker })),
      )
      tokens.push(await sign(key, { iss: remote, sub: `subject-${marker}-es`, aud: 'api' }))
      tokens.push(
        hs256({ ...claims({ sub: `subject-${marker}-resolved` }), iss: RESOLVED }, RESOLVED_SECRET),
      )
      for (let round = 0; round < 3; round++) {
        for (const token of tokens) {
          principals.push(await verifier.verify(token)) // misses, hits and evictions (max 4)
          expect(verifier.authenticateCached(`Bearer ${token}`)).toBeDefined()
        }
      }
      // Rejections: a bad signature, an untrusted issuer (logged), an expired token.
      const [header, payload] = tokens[0]?.split('.') ?? []
      const rejected = [
        `${String(header)}.${String(payload)}.${'A'.repeat(43)}`,
        hs256({ ...claims({ sub: `subject-${marker}-x` }), iss: 'https://untrusted.test' }),
        hs256(claims({ sub: `subject-${marker}-old`, exp: 1 })),
      ]
      for (const token of rejected) await expect(verifier.verify(token)).rejects.toThrow()
      for (const token of [...tokens, ...rejected]) {
        secrets.push(token, token.split('.')[1] ?? token, token.split('.')[2] ?? token)
      }

      // The test would prove nothing if the channels never fired: pino's did, for each line.
      expect(written).toContain('untrusted_issuer')
      expect(written).toContain('jwks_updated')
      expect(messages.some((m) => m.channel.startsWith('tracing:pino_asJson'))).toBe(true)
      // No cache publishes anything at all.
      expect(messages.filter((m) => m.channel.includes('lru-cache'))).toEqual([])
      for (const { channel, message } of messages) {
        const { strings, objects } = reachable(message)
        for (const text of strings) {
          for (const secret of secrets) {
            expect(text.includes(secret), `${channel} carried a token or claim`).toBe(false)
          }
        }
        for (const principal of principals) {
          expect(objects.has(principal), `${channel} carried a principal`).toBe(false)
          expect(objects.has(principal.claims), `${channel} carried claims`).toBe(false)
        }
      }
    } finally {
      for (const off of unsubscribe) off()
    }
  })
})

describe('the cache answers for the whole token, not the characters it is keyed on', () => {
  it('refuses a forged payload under a cached token’s signature, and still answers its honest twin', async () => {
    // RS256: the signature alone is longer than the characters the cache is keyed on.
    const key = await createKey('RS256')
    const verifier = createVerifier({
      issuers: [{ issuer: ISS, audience: 'api', keys: jwks(key) }],
      logger: captureLogger().logger,
    })
    const honest = await sign(key, claims({ sub: 'alice' }))
    const principal = await verifier.verify(honest)
    const [header = '', , signature = ''] = honest.split('.')
    // Same signature, other claims: never the cached principal.
    const payload = Buffer.from(JSON.stringify(claims({ sub: 'mallory' }))).toString('base64url')
    const forged = `${header}.${payload}.${signature}`
    expect(forged.slice(-64)).toBe(honest.slice(-64))
    expect(verifier.authenticateCached(`Bearer ${forged}`)).toBeUndefined()
    await expect(verifier.verify(forged)).rejects.toMatchObject({ reason: 'bad_signature' })
    expect(() => verifier.authenticateNow(`Bearer ${forged}`)).toThrow(
      expect.objectContaining({ reason: 'bad_signature' }),
    )
    // The honest token is still answered from the cache, with the same principal.
    expect(verifier.authenticateCached(`Bearer ${honest}`)).toBe(principal)
    await expect(verifier.verify(honest)).resolves.toBe(principal)
  })
})
