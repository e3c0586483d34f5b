// Run by floods.test.ts in a child `node --expose-gc` process from the repository root (vitest
// cannot pass --expose-gc to its workers without editing vitest.config.ts); the test transpiles
// this file with TypeScript's transpileModule and hands it to `node -e`, so it stays typed and
// linted like every other file. Not a test file itself: vitest does not collect it. It floods
// one verifier with three kinds of tokens and prints, as one JSON line, the heap used after a full
// GC before and after each flood. Sizes: FLOOD_N tokens per flood (default 100000), FLOOD_VALID
// distinct valid tokens (default 20000, twice the token cache's default capacity).
import { createVerifier } from '@trustgate/core'
import type { AddressInfo } from 'node:net'
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { createServer } from 'node:http'
import { pino } from 'pino'

const N = Number(process.env.FLOOD_N ?? 100_000)
const VALID = Number(process.env.FLOOD_VALID ?? 20_000)
const BATCH = 2000

const { gc } = globalThis as { gc?: () => void }
if (gc === undefined) throw new Error('run with node --expose-gc')

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc?.()
  return process.memoryUsage().heapUsed
}

const { privateKey, publicKey } = generateKeyPairSync('ed25519')
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'EdDSA', use: 'sig' }
let jwksHits = 0
const server = createServer((_req, res) => {
  jwksHits++
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }))
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const iss = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`

let logLines = 0
const logger = pino(
  { level: 'info' },
  {
    write: () => {
      logLines++
    },
  },
)
const verifier = createVerifier({
  logger,
  issuers: [{ issuer: iss, audience: 'api', jwksUri: `${iss}/jwks` }],
})

const exp = Math.floor(Date.now() / 1000) + 3600
function signed(
  claims: Record<string, unknown>,
  header: object = { alg: 'EdDSA', kid: 'k1' },
): string {
  const input = `${b64(header)}.${b64(claims)}`
  return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`
}

/** Verifies `count` tokens made by `make(i)`, in batches; returns the tally of outcomes. */
async function flood(count: number, make: (i: number) => string): Promise<Record<string, number>> {
  const tally: Record<string, number> = {}
  for (let start = 0; start < count; start += BATCH) {
    const batch = []
    for (let i = start; i < Math.min(count, start + BATCH); i++) batch.push(make(i))
    const outcomes = await Promise.all(
      batch.map((token) =>
        verifier.verify(token).then(
          () => 'ok',
          (error: unknown) => {
            if (!(error instanceof Error) || error.name !== 'AuthError') throw error
            return (error as Error & { reason: string }).reason
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
const result = {
  n: N,
  valid: VALID,
  heap: {} as Record<string, number>,
  tallies: {} as Record<string, Record<string, number>>,
  jwksHits: 0,
  logLines: 0,
}
result.heap.baseline = heapAfterGc()

result.tallies.randomKids = await flood(
  N,
  () =>
    `${b64({ alg: 'EdDSA', kid: randomBytes(12).toString('hex') })}.${payload}.${fakeSignature}`,
)
result.heap.afterRandomKids = heapAfterGc()

result.tallies.untrustedIssuers = await flood(N, () => {
  const claims = {
    iss: `https://${randomBytes(8).toString('hex')}.attacker.test`,
    sub: 'alice',
    aud: 'api',
    exp,
  }
  return `${b64({ alg: 'EdDSA', kid: 'k1' })}.${b64(claims)}.${fakeSignature}`
})
result.heap.afterUntrustedIssuers = heapAfterGc()

result.tallies.validDistinct = await flood(VALID, (i) =>
  signed({ iss, sub: `user-${String(i)}`, aud: 'api', exp }),
)
result.heap.afterValidDistinct = heapAfterGc()

result.jwksHits = jwksHits
result.logLines = logLines
await new Promise((resolve) => server.close(resolve))
process.stdout.write(`${JSON.stringify(result)}\n`)
