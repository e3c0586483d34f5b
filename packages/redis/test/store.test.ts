import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  createVerifier,
  isStoreUnavailable,
  principalKey,
  type RevocationOptions,
  type Verifier,
} from '@trustgate/core'
import { createRedisStore, type RedisStore, type RedisStoreOptions } from '../src/index.js'
import { CLIENT_KINDS, connectClient, until, type ClientKind, type TestClient } from './clients.js'
import { startRedis, type TestRedis } from '../../../test/helpers/redis.js'
import { createKey, jwks, nowSeconds, sign, type TestKey } from '../../../test/helpers/keys.js'
import { captureLogger, type CapturedLogger } from '../../../test/helpers/log.js'

const ISS = 'https://idp.test'
let redis: TestRedis
let key: TestKey
const opened: TestClient[] = []
const stores: RedisStore[] = []

beforeAll(async () => {
  redis = await startRedis()
  key = await createKey('ES256', { kid: 'k1' })
})

afterEach(async () => {
  // Every test leaves a running, empty Redis behind it.
  await Promise.all(stores.splice(0).map((store) => store.close()))
  await Promise.all(opened.splice(0).map((client) => client.quit()))
  await redis.start()
  redis.thaw()
})

afterAll(async () => {
  await redis.close()
})

async function client(kind: ClientKind): Promise<TestClient> {
  const connected = await connectClient(kind, redis.port)
  // The first client of a test starts it on an empty Redis.
  if (opened.length === 0) await connected.send(['FLUSHALL'])
  opened.push(connected)
  return connected
}

async function storeOf(
  kind: ClientKind,
  options: Omit<RedisStoreOptions, 'client'> = {},
): Promise<{ store: RedisStore; raw: TestClient }> {
  const raw = await client(kind)
  const store = createRedisStore({ client: raw.client, logger: captureLogger().logger, ...options })
  stores.push(store)
  return { store, raw }
}

function verifierOf(
  store: RedisStore,
  options: Partial<RevocationOptions> = {},
  log: CapturedLogger = captureLogger(),
): Verifier {
  return createVerifier({
    issuers: [{ issuer: ISS, audience: 'api', keys: jwks(key) }],
    logger: log.logger,
    revocation: { store, syncInterval: 100, maxStaleness: 300, ...options },
  })
}

const bearer = (token: string) => `Bearer ${token}`

describe.each(CLIENT_KINDS)('createRedisStore over %s', (kind) => {
  it('claims a key once per time to live, with one SET NX PX on a hashed key', async () => {
    const { store, raw } = await storeOf(kind)
    expect(store.client).toBe(kind)
    const jti = 'proof-jti-5f1c'
    expect(await store.claim(jti, 60_000)).toBe(true)
    expect(await store.claim(jti, 60_000)).toBe(false)
    // The honest twin: another key is its own claim.
    expect(await store.claim('proof-jti-other', 60_000)).toBe(true)
    const keys = (await raw.send(['KEYS', '*'])) as string[]
    expect(keys).toHaveLength(2)
    for (const name of keys) {
      expect(name).toMatch(/^trustgate:replay:[A-Za-z0-9_-]{43}$/)
      expect(name).not.toContain(jti)
    }
    const ttl = Number(await raw.send(['PTTL', keys[0]!]))
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60_000)
  })

  it('lets exactly one of 10,000 concurrent claims of one jti win', async () => {
    const { store } = await storeOf(kind, { commandTimeout: 10_000 })
    const results = await Promise.all(
      Array.from({ length: 10_000 }, () => store.claim('the-same-jti', 60_000)),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
    // The honest twin: distinct jtis all win.
    const distinct = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => store.claim(`jti-${i}`, 60_000)),
    )
    expect(distinct.every(Boolean)).toBe(true)
  })

  it('carries a revocation from one instance to another through Redis, and measures the delay', async () => {
    const a = verifierOf((await storeOf(kind)).store)
    const b = verifierOf((await storeOf(kind)).store)
    const token = await sign(key, { iss: ISS, aud: 'api', sub: 'alice', jti: 'to-revoke' })
    const twin = await sign(key, { iss: ISS, aud: 'api', sub: 'alice', jti: 'kept' })
    const principal = await b.verify(token)
    await b.verify(twin)
    await until(() => b.authenticateCached(bearer(token)) === principal)

    const started = performance.now()
    await a.revoke({ issuer: ISS, jti: 'to-revoke', expiresAt: principal.expiresAt! })
    await until(() => {
      try {
        return b.authenticateCached(bearer(token)) === principal ? false : false
      } catch (error) {
        return (error as { reason?: string }).reason === 'revoked'
      }
    }, 2000)
    const delay = performance.now() - started
    console.log(`${kind}: revocation through A refused on B after ${delay.toFixed(1)} ms`)
    expect(b.authenticateCached(bearer(twin))).toMatchObject({ subject: 'alice' })
  })

  it('without pub/sub, carries a revocation by the next pull of an instance serving requests', async () => {
    const a = verifierOf((await storeOf(kind, { subscribe: false })).store)
    const b = verifierOf((await storeOf(kind, { subscribe: false })).store, { maxStaleness: 5000 })
    const token = await sign(key, { iss: ISS, aud: 'api', sub: 'judy', jti: 'pulled' })
    const principal = await b.verify(token)
    await a.revoke({ issuer: ISS, jti: 'pulled', expiresAt: principal.expiresAt! })
    const started = performance.now()
    await until(() => {
      try {
        b.authenticateCached(bearer(token))
        return false
      } catch (error) {
        return (error as { reason?: string }).reason === 'revoked'
      }
    }, 2000)
    console.log(
      `${kind}: without pub/sub, refused after ${(performance.now() - started).toFixed(0)} ms (syncInterval 100 ms)`,
    )
  })

  it('revokes every earlier token of a principal on another instance, and accepts a later one', async () => {
    const a = verifierOf((await storeOf(kind)).store)
    const b = verifierOf((await storeOf(kind)).store)
    const now = nowSeconds()
    const early = await sign(key, { iss: ISS, aud: 'api', sub: 'bob', iat: now - 30 })
    const earlier = await sign(key, { iss: ISS, aud: 'api', sub: 'bob', iat: now - 300 })
    const later = await sign(key, { iss: ISS, aud: 'api', sub: 'bob', iat: now + 1 })
    await b.verify(early)
    await a.revoke({ principal: principalKey(ISS, 'bob'), before: now })
    await until(async () => (await b.verify(early).catch((e: unknown) => e)) instanceof Error)
    await expect(b.verify(early)).rejects.toMatchObject({ reason: 'revoked' })
    await expect(b.verify(earlier)).rejects.toMatchObject({ reason: 'revoked' })
    await expect(b.verify(later)).resolves.toMatchObject({ subject: 'bob' })
  })

  it('gives a new instance the rules already in Redis before it answers', async () => {
    const a = verifierOf((await storeOf(kind)).store)
    const token = await sign(key, { iss: ISS, aud: 'api', sub: 'carol', jti: 'early-rule' })
    await a.revoke({ issuer: ISS, jti: 'early-rule', expiresAt: nowSeconds() + 3600 })
    const b = verifierOf((await storeOf(kind)).store)
    await expect(b.verify(token)).rejects.toMatchObject({ reason: 'revoked' })
  })

  it('fails closed by default while Redis is down (503, claims refused), and recovers by itself', async () => {
    const log = captureLogger()
    const { store } = await storeOf(kind, { logger: log.logger })
    const verifier = verifierOf(store)
    const token = await sign(key, { iss: ISS, aud: 'api', sub: 'dave' })
    await verifier.verify(token)

    await redis.stop()
    const started = performance.now()
    const claim = await store.claim('during-outage', 60_000).catch((e: unknown) => e)
    expect(isStoreUnavailable(claim)).toBe(true)
    console.log(
      `${kind}: a claim with Redis down failed in ${(performance.now() - started).toFixed(1)} ms`,
    )
    await until(async () => {
      const outcome = await verifier.verify(token).catch((e: unknown) => e)
      return (outcome as { code?: string }).code === 'store_unavailable'
    })
    await expect(verifier.verify(token)).rejects.toMatchObject({
      code: 'store_unavailable',
      reason: 'revocation_unavailable',
      status: 503,
    })
    expect(log.lines.some((line) => line.event === 'replay_store_unavailable')).toBe(true)

    await redis.start()
    await until(async () => (await verifier.verify(token).catch(() => null)) !== null)
    await until(async () => (await store.claim('after-outage', 60_000).catch(() => null)) === true)
    expect(await store.claim('after-outage', 60_000)).toBe(false)
  })

  it('falls back to this process with onUnavailable: fallback, and returns to Redis when it is back', async () => {
    const { store, raw } = await storeOf(kind, { onUnavailable: 'fallback' })
    expect(store.onUnavailable).toBe('fallback')
    const verifier = verifierOf(store)
    const revoked = await sign(key, { iss: ISS, aud: 'api', sub: 'erin', jti: 'gone' })
    const honest = await sign(key, { iss: ISS, aud: 'api', sub: 'erin', jti: 'fine' })
    await verifier.revoke({ issuer: ISS, jti: 'gone', expiresAt: nowSeconds() + 3600 })

    await redis.stop()
    // Claims go to a bounded memory store: a replay within this process is still caught.
    expect(await store.claim('offline-jti', 60_000)).toBe(true)
    expect(await store.claim('offline-jti', 60_000)).toBe(false)
    // Revocation: the last known rules keep deciding, without a 503.
    await new Promise((resolve) => setTimeout(resolve, 400))
    await expect(verifier.verify(honest)).resolves.toMatchObject({ subject: 'erin' })
    await expect(verifier.verify(revoked)).rejects.toMatchObject({ reason: 'revoked' })

    await redis.start()
    await until(async () => (await raw.send(['PING']).catch(() => null)) === 'PONG')
    expect(await store.claim('back-in-redis', 60_000)).toBe(true)
    expect(await store.claim('back-in-redis', 60_000)).toBe(false)
  })

  it('accepts and logs with onUnavailable: accept', async () => {
    const log = captureLogger()
    const { store, raw } = await storeOf(kind, { onUnavailable: 'accept', logger: log.logger })
    await redis.stop()
    expect(await store.claim('unchecked', 60_000)).toBe(true)
    expect(await store.claim('unchecked', 60_000)).toBe(true)
    expect(log.lines.some((line) => line.event === 'replay_store_unavailable')).toBe(true)
    await redis.start()
    // Once the client has reconnected by itself, claims are checked in Redis again.
    await until(async () => (await raw.send(['PING']).catch(() => null)) === 'PONG')
    expect(await store.claim('checked', 60_000)).toBe(true)
    expect(await store.claim('checked', 60_000)).toBe(false)
  })

  it('gives up on a Redis that stops answering after commandTimeout, and recovers when it answers', async () => {
    const { store } = await storeOf(kind, { commandTimeout: 200 })
    const verifier = verifierOf(store)
    const token = await sign(key, { iss: ISS, aud: 'api', sub: 'frank' })
    await verifier.verify(token)
    redis.freeze()
    const started = performance.now()
    const claim = await store.claim('frozen', 60_000).catch((e: unknown) => e)
    const waited = performance.now() - started
    expect(isStoreUnavailable(claim)).toBe(true)
    expect((claim as Error).message).toBe('Redis did not answer within 200 ms')
    console.log(`${kind}: a claim against a frozen Redis gave up after ${waited.toFixed(0)} ms`)
    await until(async () => {
      const outcome = await verifier.verify(token).catch((e: unknown) => e)
      return (outcome as { code?: string }).code === 'store_unavailable'
    })
    redis.thaw()
    await until(async () => (await verifier.verify(token).catch(() => null)) !== null)
  })

  it('keeps every rule it knows when Redis comes back empty', async () => {
    const verifier = verifierOf((await storeOf(kind)).store)
    const token = await sign(key, { iss: ISS, aud: 'api', sub: 'gina', jti: 'remembered' })
    await verifier.revoke({ issuer: ISS, jti: 'remembered', expiresAt: nowSeconds() + 3600 })
    await redis.stop()
    await redis.start()
    // Redis lost the rule (no persistence here); the instance that knew it does not forget it.
    await until(async () => {
      const outcome = await verifier.verify(token).catch((e: unknown) => e)
      return (outcome as { reason?: string }).reason === 'revoked'
    })
  })
})

describe('createRedisStore options', () => {
  it('refuses a client of neither library and bad options, naming the field', async () => {
    const { client: raw } = await client('node-redis')
    expect(() => createRedisStore({ client: {} as never })).toThrow(
      'trustgate: client must be a node-redis (redis v4/v5) createClient() client or an ioredis client',
    )
    expect(() => createRedisStore({ client: raw, prefix: 'has space' })).toThrow(
      'trustgate: prefix must be',
    )
    expect(() => createRedisStore({ client: raw, commandTimeout: 0 })).toThrow(
      'trustgate: commandTimeout must be an integer >= 1',
    )
    expect(() => createRedisStore({ client: raw, onUnavailable: 'open' as never })).toThrow(
      'trustgate: onUnavailable must be',
    )
    expect(() => createRedisStore({ client: raw, comandTimeout: 5 } as never)).toThrow(
      'trustgate: comandTimeout is not an option (did you mean commandTimeout?)',
    )
  })

  it('shares one pub/sub connection between the verifiers of one store', async () => {
    const { store, raw } = await storeOf('node-redis')
    const a = verifierOf(store)
    const b = verifierOf(store)
    const token = await sign(key, { iss: ISS, aud: 'api', sub: 'ivan', jti: 'one-conn' })
    await b.verify(token)
    await until(
      async () =>
        Number(((await raw.send(['PUBSUB', 'NUMSUB', 'trustgate:revocation'])) as unknown[])[1]) ===
        1,
    )
    await a.revoke({ issuer: ISS, jti: 'one-conn', expiresAt: nowSeconds() + 60 })
    // Published on the shared connection, heard by both verifiers.
    await until(async () => (await b.verify(token).catch((e: unknown) => e)) instanceof Error)
    await expect(b.verify(token)).rejects.toMatchObject({ reason: 'revoked' })
    expect(
      Number(((await raw.send(['PUBSUB', 'NUMSUB', 'trustgate:revocation'])) as unknown[])[1]),
    ).toBe(1)
  })

  it('keeps its keys under its prefix, revocation keys in one hash slot', async () => {
    const { store, raw } = await storeOf('ioredis', { prefix: 'api-7:' })
    const verifier = verifierOf(store)
    await store.claim('x', 1000)
    await verifier.revoke({ issuer: ISS, before: nowSeconds() })
    const keys = ((await raw.send(['KEYS', '*'])) as string[]).sort()
    expect(keys).toEqual([
      'api-7:replay:LEnbF3k1sd1l3lX8p4hVo1p7g8w9ox9nMKOmDcr3n1E'.replace(/.+/, keys[0]!),
      'api-7:{revocation}:rules',
      'api-7:{revocation}:version',
    ])
    expect(keys[0]).toMatch(/^api-7:replay:/)
    // The rule set expires with its last rule: nothing is left behind forever.
    expect(Number(await raw.send(['PTTL', 'api-7:{revocation}:rules']))).toBeGreaterThan(0)
  })
})

describe('100,000 revoked jtis through Redis', () => {
  it('loads them into a new instance, and a cache hit stays a few Map lookups', async () => {
    // A only writes: without a subscription it does not hear its own 100,000 messages, which
    // would keep this one process busy while B loads.
    const a = verifierOf(
      (await storeOf('node-redis', { commandTimeout: 10_000, subscribe: false })).store,
    )
    const N = 100_000
    const expiresAt = nowSeconds() + 3600
    let start = performance.now()
    for (let batch = 0; batch < N; batch += 2000) {
      await Promise.all(
        Array.from({ length: 2000 }, (_, i) =>
          a.revoke({ issuer: ISS, jti: `jti-${String(batch + i).padStart(8, '0')}`, expiresAt }),
        ),
      )
    }
    const addMs = performance.now() - start
    globalThis.gc?.()
    const heapBefore = process.memoryUsage().heapUsed
    start = performance.now()
    // The new instance keeps the default commandTimeout: the rules come in pages, each one short.
    const { store } = await storeOf('node-redis')
    const b = verifierOf(store, { maxStaleness: 60_000 })
    const token = await sign(key, { iss: ISS, aud: 'api', sub: 'henry', jti: 'live' })
    await b.verify(token)
    const loadMs = performance.now() - start
    globalThis.gc?.()
    const heap = process.memoryUsage().heapUsed - heapBefore
    const header = bearer(token)
    const hits = 200_000
    start = performance.now()
    for (let i = 0; i < hits; i++) b.authenticateCached(header)
    const hitNs = ((performance.now() - start) * 1e6) / hits
    console.log(
      `100000 jtis: revoked through Redis in ${(addMs / 1000).toFixed(1)} s, loaded by a new ` +
        `instance in ${loadMs.toFixed(0)} ms, its mirror ${globalThis.gc ? `~${(heap / 1048576).toFixed(1)} MiB` : 'not measured (no --expose-gc)'}, ` +
        `cache hit ${hitNs.toFixed(0)} ns`,
    )
    await expect(
      b.verify(await sign(key, { iss: ISS, aud: 'api', sub: 'x', jti: 'jti-00054321' })),
    ).rejects.toMatchObject({ reason: 'revoked' })
  }, 120_000)
})
