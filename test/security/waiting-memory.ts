// Run by waiting-memory.test.ts in a child `node --max-old-space-size=<small>` process from the
// repository root, transpiled like flood-memory.ts (not a test file itself). It serves the
// @trustgate/fastify plugin on 127.0.0.1 for one issuer whose JWKS (WAIT_JWKS_URI) the parent
// serves slowly, and writes JSON lines on stdout:
//   {"port": n}                      listening
//   {"waiting": n}                   once WAIT_N requests are in flight at the same time
//   {"peakHeapUsed", "heapLimit", "peakInFlight"}   on the line "report" on stdin, then exits
// Requests in flight are counted from an onRequest hook that runs before the plugin's own: with
// the key set held back, every request that got that far is waiting for it.
import { jwtAuth } from '@trustgate/fastify'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { getHeapStatistics } from 'node:v8'

const iss = process.env.WAIT_ISSUER ?? ''
const jwksUri = process.env.WAIT_JWKS_URI ?? ''
const expected = Number(process.env.WAIT_N ?? 3000)

let inFlight = 0
let peakInFlight = 0
let peakHeapUsed = 0
let announced = false
const sample = (): void => {
  peakHeapUsed = Math.max(peakHeapUsed, process.memoryUsage().heapUsed)
}
const sampler = setInterval(sample, 10)

const app = Fastify({ logger: false })
app.addHook('onRequest', async () => {
  inFlight++
  peakInFlight = Math.max(peakInFlight, inFlight)
  sample()
  if (!announced && inFlight >= expected) {
    announced = true
    process.stdout.write(`${JSON.stringify({ waiting: inFlight })}\n`)
  }
})
app.addHook('onResponse', async () => {
  inFlight--
})
await app.register(jwtAuth, {
  issuers: [{ issuer: iss, audience: 'api', jwksUri }],
  // The parent holds the key set back for as long as it takes all requests to arrive.
  jwks: { timeoutDuration: 50_000 },
})
app.get('/me', async (request) => ({ key: request.principal?.key ?? null }))
// A backlog for the whole burst: at the default 511, the kernel drops SYNs and clients retry
// seconds later.
await app.listen({ port: 0, host: '127.0.0.1', backlog: 4096 })
process.stdout.write(`${JSON.stringify({ port: (app.server.address() as AddressInfo).port })}\n`)

for await (const line of createInterface({ input: process.stdin })) {
  if (line !== 'report') continue
  sample()
  clearInterval(sampler)
  process.stdout.write(
    `${JSON.stringify({ peakHeapUsed, heapLimit: getHeapStatistics().heap_size_limit, peakInFlight })}\n`,
  )
  await app.close()
  break
}
