/**
 * DPoP cost: requests per second of the adapters' synchronous path (authenticateCached) for a
 * token in the verified-token cache, sent as a plain bearer token, and as a DPoP-bound token with
 * a fresh proof on every request (one proof signature verification, one thumbprint, one hash of
 * the token, one claim in the memory replay store). Proofs are minted before timing: only the
 * server's work is measured. Prints the ratio of the DPoP rows to the bearer row.
 *
 *   node dpop.bench.mjs [--rounds 5] [--ops 4000]
 */
import { createHash, randomUUID, sign, verify } from 'node:crypto'
import { parseArgs } from 'node:util'
import { createMemoryReplayStore, createVerifier } from '@trustgate/core'
import {
  AUDIENCE,
  claims,
  createKey,
  ISSUER,
  median,
  signToken,
  silentLogger,
} from './fixtures.mjs'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    ops: { type: 'string', default: '4000' },
  },
})
const ROUNDS = Number(args.rounds)
const OPS = Number(args.ops)
const ORIGIN = 'https://api.bench.test'
const URL_ORDERS = `${ORIGIN}/orders`

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
const thumbprint = (jwk) => {
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : { crv: jwk.crv, kty: jwk.kty, x: jwk.x }
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url')
}

/** A DPoP proof for GET /orders and `token`, signed with the client's key (ES256 or EdDSA). */
function proof(client, token) {
  const { kid: _kid, alg: _alg, use: _use, ...jwk } = client.jwk
  const header = { typ: 'dpop+jwt', alg: client.alg, jwk }
  const payload = {
    jti: randomUUID(),
    htm: 'GET',
    htu: URL_ORDERS,
    iat: Math.floor(Date.now() / 1000),
    ath: createHash('sha256').update(token).digest('base64url'),
  }
  const input = `${b64(header)}.${b64(payload)}`
  const signature =
    client.alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key: client.privateKey, dsaEncoding: 'ieee-p1363' })
      : sign(null, Buffer.from(input), client.privateKey)
  return `${input}.${signature.toString('base64url')}`
}

const issuerKey = createKey('ES256', 'issuer')
const verifier = createVerifier({
  issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: { keys: [issuerKey.jwk] } }],
  logger: silentLogger,
  dpop: { replayStore: createMemoryReplayStore({ max: 1_000_000 }) },
})

const bearer = signToken('ES256', issuerKey, claims(1))
const rows = []

/** ops/s of `run(i)` over OPS calls, median of ROUNDS rounds; `prepare()` runs before each round. */
function measure(name, prepare, run) {
  const rates = []
  for (let round = 0; round < ROUNDS; round++) {
    const input = prepare()
    const started = performance.now()
    for (let i = 0; i < OPS; i++) run(input, i)
    rates.push(OPS / ((performance.now() - started) / 1000))
  }
  rows.push({ name, opsPerSec: median(rates) })
}

const context = (dpop) => ({ method: 'GET', url: URL_ORDERS, dpop: [dpop] })

// Warm the cache: the bearer token, and each DPoP token once through the full path.
await verifier.authenticate(`Bearer ${bearer}`)
measure(
  'bearer, cache hit (authenticateCached)',
  () => undefined,
  () => {
    if (verifier.authenticateCached(`Bearer ${bearer}`) === undefined) throw new Error('miss')
  },
)

for (const alg of ['ES256', 'EdDSA']) {
  const client = createKey(alg, `client-${alg}`)
  const token = signToken('ES256', issuerKey, claims(2, { cnf: { jkt: thumbprint(client.jwk) } }))
  await verifier.authenticate(`DPoP ${token}`, context(proof(client, token)))
  const fresh = () => Array.from({ length: OPS }, () => context(proof(client, token)))
  // The floor: the proof's signature verification alone, which every DPoP request needs.
  measure(
    `floor: crypto.verify of an ${alg} proof`,
    () => Array.from({ length: OPS }, () => proof(client, token)),
    (proofs, i) => {
      const jws = proofs[i]
      const dot = jws.lastIndexOf('.')
      const signature = Buffer.from(jws.slice(dot + 1), 'base64url')
      const data = Buffer.from(jws.slice(0, dot))
      const ok =
        alg === 'ES256'
          ? verify('sha256', data, { key: client.publicKey, dsaEncoding: 'ieee-p1363' }, signature)
          : verify(null, data, client.publicKey, signature)
      if (!ok) throw new Error('bad signature')
    },
  )
  measure(`DPoP, cache hit + fresh ${alg} proof (authenticateCached)`, fresh, (contexts, i) => {
    if (verifier.authenticateCached(`DPoP ${token}`, contexts[i]) === undefined) {
      throw new Error('miss')
    }
  })
}

const base = rows[0].opsPerSec
console.log(`DPoP cost (Node ${process.version}, ${String(ROUNDS)} rounds of ${String(OPS)} ops)`)
for (const row of rows) {
  console.log(
    `${row.name.padEnd(58)} ${Math.round(row.opsPerSec).toString().padStart(9)} ops/s  ` +
      `${(row.opsPerSec / base).toFixed(3)}x bearer`,
  )
}
