/**
 * Same-run A/B of the verified-token cache hit between two builds of @trustgate/core:
 *   node ab-cache-hit.mjs <baseline core dist/index.js> <candidate core dist/index.js> [rounds]
 * Interleaves rounds of verify() hits (awaited) and authenticateCached() hits (the adapters'
 * synchronous path), one token and 4096 tokens cycled, and prints medians and ratios.
 */
import { generateKeyPairSync, sign } from 'node:crypto'
import { pathToFileURL } from 'node:url'

const [baseline, candidate, roundsArg = '7'] = process.argv.slice(2)
const ROUNDS = Number(roundsArg)
const ROUND_MS = 300
const ISSUER = 'https://issuer.bench.test'
const AUDIENCE = 'https://api.bench.test'
const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' }
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url')
const now = Math.floor(Date.now() / 1000)
function token(i) {
  const input = `${b64({ alg: 'ES256', kid: 'k1', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: `user-${i}`, scope: 'read write', iat: now, exp: now + 3600, jti: `j${i}` })}`
  return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
}
const tokens = Array.from({ length: 4096 }, (_, i) => token(i))
const logger = { info() {}, warn() {}, error() {}, debug() {} }
const silent = Object.assign(Object.create(null), logger, { level: 'silent' })

async function load(path) {
  const core = await import(pathToFileURL(path).href)
  const verifier = core.createVerifier({
    issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: { keys: [jwk] } }],
    logger: silent,
  })
  for (const t of tokens) await verifier.verify(t)
  return verifier
}
const builds = { baseline: await load(baseline), candidate: await load(candidate) }

function measureSync(fn) {
  let n = 0
  const end = performance.now() + ROUND_MS
  while (performance.now() < end) for (let i = 0; i < 1000; i++, n++) fn(n)
  return (n / ROUND_MS) * 1000
}
async function measureAsync(fn) {
  let n = 0
  const end = performance.now() + ROUND_MS
  while (performance.now() < end) for (let i = 0; i < 1000; i++, n++) await fn(n)
  return (n / ROUND_MS) * 1000
}
const headers = tokens.map((t) => `Bearer ${t}`)
const cases = {
  'verify() hit, one token': (v) => measureAsync(() => v.verify(tokens[0])),
  'verify() hit, 4096 tokens': (v) => measureAsync((n) => v.verify(tokens[n & 4095])),
  'authenticateCached hit, one token': (v) => measureSync(() => v.authenticateCached(headers[0])),
  'authenticateCached hit, 4096 tokens': (v) =>
    measureSync((n) => v.authenticateCached(headers[n & 4095])),
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
for (const [name, run] of Object.entries(cases)) {
  const results = { baseline: [], candidate: [] }
  for (let r = 0; r < ROUNDS; r++) {
    for (const which of r % 2 ? ['candidate', 'baseline'] : ['baseline', 'candidate']) {
      results[which].push(await run(builds[which]))
    }
  }
  const b = median(results.baseline)
  const c = median(results.candidate)
  console.log(
    `${name.padEnd(38)} baseline ${(b / 1e6).toFixed(2)} M/s  candidate ${(c / 1e6).toFixed(2)} M/s  ratio ${(c / b).toFixed(2)}`,
  )
}
