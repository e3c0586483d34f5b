/**
 * Micro benchmark: verify() ops/s per algorithm, uncached and cache-hit, beside the floor
 * (node:crypto's synchronous verify alone, on a KeyObject, with the signature already decoded),
 * the floor plus the least decoding any verifier must do (split, base64url, JSON.parse of header
 * and payload), jose.jwtVerify with the same key, fast-jwt, aws-jwt-verify and jsonwebtoken.
 * Each contender runs for ROUND_MS per round, rounds are interleaved (in a rotated order), and the
 * median of ROUNDS is reported with its ratio to the floor: the median of each round's ratio to the
 * floor of that round.
 *
 * Two token shapes: `realistic`, an Auth0-shaped access token of 12 claims (array `aud`, `scope`
 * string, `azp`, `jti`; about 900 characters in RS256), and `small`, the 7-claim token of earlier
 * runs (about 630 characters in RS256).
 *
 *   node micro.bench.mjs [--rounds 15] [--ms 100] [--algs RS256,ES256] [--shapes realistic,small]
 *                        [--only "trustgate verify() uncached,fast-jwt (cache off)"]
 *                        [--json out.json]
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createVerifier } from '@trustgate/core'
import { JwtVerifier } from 'aws-jwt-verify'
import { createVerifier as createFastJwtVerifier } from 'fast-jwt'
import * as jose from 'jose'
import jsonwebtoken from 'jsonwebtoken'
import {
  AUDIENCE,
  ISSUER,
  SECRET,
  claims,
  createKey,
  floorCheck,
  pairedRatio,
  realisticClaims,
  median,
  signToken,
  silentLogger,
  splitTokens,
} from './fixtures.mjs'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    ms: { type: 'string', default: '100' },
    json: { type: 'string' },
    algs: { type: 'string', default: 'RS256,PS256,ES256,EdDSA,HS256' },
    shapes: { type: 'string', default: 'realistic,small' },
    // Only the contenders whose name starts with one of these (comma-separated); the floor always.
    only: { type: 'string' },
  },
})
const ROUNDS = Number(args.rounds)
const ROUND_MS = Number(args.ms)
const ALGS = args.algs.split(',')
const SHAPES = { realistic: realisticClaims, small: claims }
const SHAPE_NAMES = args.shapes.split(',')
const TOKENS = 256 // distinct tokens cycled through by every contender

async function contenders(alg, shape) {
  const key = alg === 'HS256' ? undefined : createKey(alg)
  const signingKey = alg === 'HS256' ? SECRET : key
  const tokens = Array.from({ length: TOKENS }, (_, i) =>
    signToken(alg, signingKey, SHAPES[shape](i)),
  )
  const issuer =
    alg === 'HS256'
      ? { issuer: ISSUER, audience: AUDIENCE, secret: SECRET, algorithms: ['HS256'] }
      : { issuer: ISSUER, audience: AUDIENCE, keys: { keys: [key.jwk] }, algorithms: [alg] }
  const uncached = createVerifier({ issuers: [issuer], logger: silentLogger, tokenCache: false })
  const cached = createVerifier({ issuers: [issuer], logger: silentLogger })
  // Cache on, but each of the 256 tokens cycled through misses it: the cost of a first-seen
  // token, insertion and eviction included.
  const missing = createVerifier({
    issuers: [issuer],
    logger: silentLogger,
    tokenCache: { max: 1 },
  })
  const list = []
  let i = 0
  const next = () => tokens[i++ & (TOKENS - 1)]

  // The floor: one synchronous crypto.verify (or HMAC) of bytes already split and decoded.
  const floor = floorCheck(alg, key)
  const parts = splitTokens(tokens)
  list.push({
    name: alg === 'HS256' ? 'floor: crypto.createHmac' : 'floor: crypto.verify',
    floor: true,
    sync: () => {
      const [data, sig] = parts[i++ & (TOKENS - 1)]
      if (!floor(data, sig)) throw new Error('floor failed')
    },
  })
  // The floor plus what every verifier must do before it: split the token, decode its three
  // base64url parts, parse header and payload. No check at all: the least work there is.
  list.push({
    name: 'floor + split + base64url + JSON.parse',
    sync: () => {
      const token = next()
      const first = token.indexOf('.')
      const second = token.indexOf('.', first + 1)
      const header = JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString())
      const payload = JSON.parse(
        Buffer.from(token.slice(first + 1, second), 'base64url').toString(),
      )
      const signature = Buffer.from(token.slice(second + 1), 'base64url')
      const data = Buffer.from(token.slice(0, second))
      if (header.alg !== alg || payload.iss !== ISSUER || !floor(data, signature)) {
        throw new Error('floor + decode failed')
      }
    },
  })
  list.push({ name: 'trustgate verify() uncached', async: () => uncached.verify(next()) })
  list.push({
    name: 'trustgate verify() first-seen, cache on',
    async: () => missing.verify(next()),
  })
  await cached.verify(tokens[0])
  list.push({ name: 'trustgate verify() cache hit', async: () => cached.verify(tokens[0]) })

  const joseKey = alg === 'HS256' ? SECRET : await jose.importJWK(key.jwk, alg)
  const joseOptions = { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg] }
  list.push({ name: 'jose.jwtVerify', async: () => jose.jwtVerify(next(), joseKey, joseOptions) })

  const fastJwt = createFastJwtVerifier({
    key: alg === 'HS256' ? SECRET : key.pem,
    algorithms: [alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    cache: false,
  })
  list.push({ name: 'fast-jwt (cache off)', sync: () => fastJwt(next()) })
  // fast-jwt's own cache, on one token, beside trustgate's cache hit.
  const fastJwtCached = createFastJwtVerifier({
    key: alg === 'HS256' ? SECRET : key.pem,
    algorithms: [alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    cache: true,
  })
  list.push({ name: 'fast-jwt cache hit', sync: () => fastJwtCached(tokens[0]) })

  if (alg !== 'HS256' && alg !== 'PS256') {
    const aws = JwtVerifier.create({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: 'https://issuer.bench.test/jwks.json',
    })
    aws.cacheJwks({ keys: [key.jwk] })
    list.push({ name: 'aws-jwt-verify verifySync', sync: () => aws.verifySync(next()) })
  }
  if (alg !== 'EdDSA') {
    const secretOrKey = alg === 'HS256' ? SECRET : key.pem
    const options = { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE }
    list.push({
      name: 'jsonwebtoken verify',
      sync: () => jsonwebtoken.verify(next(), secretOrKey, options),
    })
  }
  const only = args.only?.split(',')
  const kept =
    only === undefined
      ? list
      : list.filter((c) => c.floor === true || only.some((prefix) => c.name.startsWith(prefix)))
  kept.tokenLength = tokens[0].length
  return kept
}

/** Ops per second of one contender over ROUND_MS, measured in batches to keep clock reads rare. */
async function measure(contender) {
  const batch = 50
  const deadline = process.hrtime.bigint() + BigInt(ROUND_MS) * 1_000_000n
  const start = process.hrtime.bigint()
  let ops = 0
  let now = start
  if (contender.sync !== undefined) {
    const fn = contender.sync
    while (now < deadline) {
      for (let k = 0; k < batch; k++) fn()
      ops += batch
      now = process.hrtime.bigint()
    }
  } else {
    const fn = contender.async
    while (now < deadline) {
      for (let k = 0; k < batch; k++) await fn()
      ops += batch
      now = process.hrtime.bigint()
    }
  }
  return (ops * 1e9) / Number(now - start)
}

const results = []
for (const shape of SHAPE_NAMES)
  for (const alg of ALGS) {
    const list = await contenders(alg, shape)
    // Warm-up: let every contender's code be optimised before it is measured.
    for (const contender of list) await measure(contender)
    const samples = list.map(() => [])
    for (let round = 0; round < ROUNDS; round++) {
      // Interleaved, and in a rotated order each round, so drift hits every contender alike.
      for (let k = 0; k < list.length; k++) {
        const index = (k + round) % list.length
        samples[index].push(await measure(list[index]))
      }
    }
    // Ratios are paired: each round's figure over the floor's figure of the same round, then the
    // median of those. On a machine shared with other jobs, speed drifts by 10-30% over seconds;
    // a ratio of two medians taken seconds apart carries that drift, a paired one mostly not.
    const floorSamples = samples[list.findIndex((c) => c.floor)]
    for (const [index, contender] of list.entries()) {
      results.push({
        shape,
        tokenLength: list.tokenLength,
        alg,
        name: contender.name,
        opsPerSec: median(samples[index]),
        ratioToFloor: pairedRatio(samples[index], floorSamples),
        rounds: samples[index],
      })
    }
  }

for (const shape of SHAPE_NAMES) {
  const rows = results.filter((r) => r.shape === shape)
  const lengths = ALGS.map((alg) => `${alg} ${rows.find((r) => r.alg === alg)?.tokenLength}`)
  console.log(`\n${shape} token (${lengths.join(', ')} characters)\n`)
  console.log(`| alg | contender | ops/s (median of ${ROUNDS}) | x floor |`)
  console.log('|---|---|---:|---:|')
  for (const r of rows) {
    console.log(
      `| ${r.alg} | ${r.name} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} | ${r.ratioToFloor.toFixed(2)} |`,
    )
  }
  const uncachedRs = rows.find((r) => r.alg === 'RS256' && r.name === 'trustgate verify() uncached')
  const cachedRs = rows.find((r) => r.alg === 'RS256' && r.name === 'trustgate verify() cache hit')
  if (uncachedRs && cachedRs) {
    console.log(
      `\ncache hit / uncached, RS256: ${(cachedRs.opsPerSec / uncachedRs.opsPerSec).toFixed(1)}x`,
    )
  }
}
if (args.json !== undefined) writeFileSync(args.json, JSON.stringify(results, null, 2))
