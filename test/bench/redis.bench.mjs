/**
 * Revocation and replay benchmark.
 *
 * 1. A verified-token cache hit (`authenticateCached`, the adapters' hot path) with revocation
 *    off, on with an empty mirror, and on with 100,000 revoked jtis in the mirror: ns per call,
 *    rounds interleaved, median of ROUNDS, with the ratio to revocation off.
 * 2. A DPoP claim round trip to a real Redis (one `SET NX PX` on a hashed key) through
 *    `createRedisStore`, over node-redis and ioredis: one claim at a time (latency p50/p99) and
 *    256 in flight (claims/s). Needs `redis-server` on the PATH; it starts its own.
 *
 *   node --expose-gc redis.bench.mjs [--rounds 5] [--calls 500000] [--claims 20000]
 */
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { parseArgs } from 'node:util'
import { createMemoryRevocationStore, createVerifier } from '@trustgate/core'
import { createRedisStore } from '@trustgate/redis'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { startRedisServer } from '../../examples/redis/redis-server.js'
import {
  AUDIENCE,
  ISSUER,
  claims,
  createKey,
  median,
  signToken,
  silentLogger,
} from './fixtures.mjs'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    calls: { type: 'string', default: '500000' },
    claims: { type: 'string', default: '20000' },
  },
})
const ROUNDS = Number(args.rounds)
const CALLS = Number(args.calls)
const CLAIMS = Number(args.claims)

// 1. The cache hit, revocation off and on.
const key = createKey('ES256', 'redis-bench')
const token = signToken('ES256', key, claims(1))
const header = `Bearer ${token}`
const issuers = [{ issuer: ISSUER, audience: AUDIENCE, keys: { keys: [key.jwk] } }]
// The mirror's heap, measured first, before anything else is allocated or freed: a verifier
// loading 100,000 jti rules (random UUIDs, as many issuers use), made inside load() so that
// everything the mirror keeps is allocated after the baseline.
let mirrorMiB
if (globalThis.gc) {
  const store = {
    add() {},
    load: () =>
      Array.from({ length: 100_000 }, () => ({
        issuer: ISSUER,
        jti: randomUUID(),
        expiresAt: 2e9,
        until: 2e9,
      })),
  }
  const probe = `Bearer ${token}`
  // Several collections: one full GC may leave garbage of the set-up above unswept.
  for (let i = 0; i < 4; i++) globalThis.gc()
  const before = process.memoryUsage().heapUsed
  const verifier = createVerifier({ issuers, logger: silentLogger, revocation: { store } })
  await verifier.authenticate(probe)
  for (let i = 0; i < 4; i++) globalThis.gc()
  mirrorMiB = (process.memoryUsage().heapUsed - before) / 1048576
  // Still in use after the measure, so that the collector cannot take it (and its mirror) early.
  if (verifier.authenticateCached(probe) === undefined) throw new Error('a miss')
}

const full = createMemoryRevocationStore()
const until = Math.floor(Date.now() / 1000) + 3600
for (let i = 0; i < 100_000; i++) {
  full.add({ issuer: ISSUER, jti: `revoked-${i}`, expiresAt: until, until })
}
const rows = {
  'revocation off': createVerifier({ issuers, logger: silentLogger }),
  'revocation on, empty mirror': createVerifier({
    issuers,
    logger: silentLogger,
    revocation: { store: createMemoryRevocationStore() },
  }),
  'revocation on, 100,000 jtis': createVerifier({
    issuers,
    logger: silentLogger,
    revocation: { store: full },
  }),
}
for (const verifier of Object.values(rows)) await verifier.authenticate(header)
const samples = Object.fromEntries(Object.keys(rows).map((name) => [name, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, verifier] of Object.entries(rows)) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < CALLS; i++) {
      if (verifier.authenticateCached(header) === undefined) throw new Error(`${name}: a miss`)
    }
    samples[name].push(Number(process.hrtime.bigint() - start) / CALLS)
  }
}
const off = median(samples['revocation off'])
console.log(`Cache hit (authenticateCached), ES256, median of ${ROUNDS} rounds of ${CALLS} calls`)
console.log('| row | ns/call | x revocation off |')
console.log('|---|---:|---:|')
for (const name of Object.keys(rows)) {
  const ns = median(samples[name])
  console.log(`| ${name} | ${ns.toFixed(0)} | ${(ns / off).toFixed(2)} |`)
}
console.log(
  mirrorMiB === undefined
    ? '\n(run with --expose-gc for the heap of the mirror)'
    : `\nMirror of 100,000 revoked jtis (loaded as from Redis): ${mirrorMiB.toFixed(1)} MiB of heap`,
)

// 2. Claims against a real Redis.
const redis = await startRedisServer('trustgate-bench-redis-')
const clients = {
  'node-redis': async () => {
    const client = createClient({
      url: `redis://127.0.0.1:${redis.port}`,
      disableOfflineQueue: true,
    })
    await client.connect()
    return { client, quit: () => client.close() }
  },
  ioredis: async () => {
    const client = new Redis(redis.port, '127.0.0.1', { enableOfflineQueue: false })
    await once(client, 'ready')
    return { client, quit: () => client.quit() }
  },
}
console.log(`\nDPoP claim round trip to Redis (SET NX PX, hashed key), ${CLAIMS} claims per row`)
console.log('| client | one at a time: p50 (µs) | p99 (µs) | 256 in flight: claims/s |')
console.log('|---|---:|---:|---:|')
let n = 0
for (const [name, connectClient] of Object.entries(clients)) {
  const { client, quit } = await connectClient()
  const store = createRedisStore({ client, logger: silentLogger, commandTimeout: 5000 })
  const latencies = []
  for (let i = 0; i < CLAIMS; i++) {
    const start = process.hrtime.bigint()
    if (!(await store.claim(`jti-${n++}`, 60_000))) throw new Error('a fresh jti lost')
    latencies.push(Number(process.hrtime.bigint() - start) / 1000)
  }
  latencies.sort((a, b) => a - b)
  const start = process.hrtime.bigint()
  let next = 0
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next < CLAIMS) {
        next++
        await store.claim(`jti-${n++}`, 60_000)
      }
    }),
  )
  const perSecond = CLAIMS / (Number(process.hrtime.bigint() - start) / 1e9)
  console.log(
    `| ${name} | ${latencies[latencies.length >> 1].toFixed(0)} | ` +
      `${latencies[Math.floor(latencies.length * 0.99)].toFixed(0)} | ${Math.round(perSecond).toLocaleString('en-US')} |`,
  )
  await store.close()
  await quit()
}
await redis.close()
