// Run by floods.test.ts as `node --expose-gc test/security/flood-memory.mjs` from the repository
// root (vitest cannot pass --expose-gc to its workers without editing vitest.config.ts). It floods
// one verifier with three kinds of tokens and prints, as one JSON line, the heap used after a full
// GC before and after each flood. Sizes: FLOOD_N tokens per flood (default 100000), FLOOD_VALID
// distinct valid tokens (default 20000, twice the token cache's default capacity).
import { createVerifier } from '@trustgate/core'
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { createServer } from 'node:http'
import { pino } from 'pino'

const N = Number(process.env.FLOOD_N ?? 100_000)
const VALID = Number(process.env.FLOOD_VALID ?? 20_000)
const BATCH = 2000

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc')

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')

function heapAfterGc() {
  for (let i = 0; i < 3; i++) globalThis.gc()
  return process.memoryUsage().heapUsed
}

const { privateKey, publicKey } = generateKeyPairSync('ed25519')
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'EdDSA', use: 'sig' }
let jwksHits = 0
const server = createServer((_req, res) => {
  jwksHits++
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }))
})
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const iss = `http://127.0.0.1:${server.address().port}`

let logLines = 0
const logger = pino({ level: 'info' }, { write: () => void logLines++ })
const verifier = createVerifier({ logger, issuers: [{ issuer: iss, audience: 'api', jwksUri: `${iss}/jwks` }] })

const exp = Math.floor(Date.now() / 1000) + 3600
function signed(claims, header = { alg: 'EdDSA', kid: 'k1' }) {
  const input = `${b64(header)}.${b64(claims)}`
  return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`
}

/** Verifies `count` tokens made by `make(i)`, in batches; returns the tally of outcomes. */
async function flood(count, make) {
  const tally = {}
  for (let start = 0; start < count; start += BATCH) {
    const batch = []
    for (let i = start; i < Math.min(count, start + BATCH); i++) batch.push(make(i))
    const outcomes = await Promise.all(
      batch.map((token) =>
        verifier.verify(token).then(
          () => 'ok',
          (error) => {
            if (error?.name !== 'AuthError') throw error
            return error.reason
          },
        ),
      ),
    )
    for (const outcome of outcomes) tally[outcome] = (tally[outcome] ?? 0) + 1
  }
  return tally
}

// Warm up: the first fetch, the code paths, the log sampler.
await verifier.verify(signed({ iss, sub: 'warm', aud: 'api', exp }))
const fakeSignature = randomBytes(64).toString('base64url')
const payload = b64({ iss, sub: 'alice', aud: 'api', exp })
const result = { n: N, valid: VALID, heap: {}, tallies: {} }
result.heap.baseline = heapAfterGc()

result.tallies.randomKids = await flood(N, () => `${b64({ alg: 'EdDSA', kid: randomBytes(12).toString('hex') })}.${payload}.${fakeSignature}`)
result.heap.afterRandomKids = heapAfterGc()

result.tallies.untrustedIssuers = await flood(N, () => {
  const claims = { iss: `https://${randomBytes(8).toString('hex')}.attacker.test`, sub: 'alice', aud: 'api', exp }
  return `${b64({ alg: 'EdDSA', kid: 'k1' })}.${b64(claims)}.${fakeSignature}`
})
result.heap.afterUntrustedIssuers = heapAfterGc()

result.tallies.validDistinct = await flood(VALID, (i) => signed({ iss, sub: `user-${String(i)}`, aud: 'api', exp }))
result.heap.afterValidDistinct = heapAfterGc()

result.jwksHits = jwksHits
result.logLines = logLines
await new Promise((resolve) => server.close(resolve))
process.stdout.write(`${JSON.stringify(result)}\n`)
