/**
 * A/B of uncached verify() (`tokenCache: false`) between two builds of @trustgate/core, each in a
 * process of its own (a second build loaded into the same process ran ~7% slower, whichever it
 * was), alternated, beside the floor and fast-jwt measured in that same process:
 *
 *   node ab-uncached.mjs <baseline core dist/index.js> <candidate core dist/index.js>
 *                        [--algs RS256,HS256] [--shape realistic] [--pairs 2] [--rounds 7]
 *
 * Prints, per process, trustgate's and fast-jwt's ns per verify() and ratio to the floor (median
 * of each round's ratio to the floor of that round). An old build is made with
 * `git worktree add /tmp/old <commit>`, an install and `npx tsc -b` there.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { createVerifier as createFastJwtVerifier } from 'fast-jwt'
import {
  AUDIENCE,
  ISSUER,
  SECRET,
  claims,
  createKey,
  floorCheck,
  median,
  pairedRatio,
  realisticClaims,
  signToken,
  silentLogger,
  splitTokens,
} from './fixtures.mjs'

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    algs: { type: 'string', default: 'RS256,HS256' },
    shape: { type: 'string', default: 'realistic' },
    pairs: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '7' },
    child: { type: 'string' },
    alg: { type: 'string' },
  },
})

if (args.child === undefined) {
  const [baseline, candidate] = positionals
  if (baseline === undefined || candidate === undefined) {
    throw new Error(
      'usage: node ab-uncached.mjs <baseline index.js> <candidate index.js> [options]',
    )
  }
  const self = fileURLToPath(import.meta.url)
  for (const alg of args.algs.split(',')) {
    console.log(`\n${alg}, ${args.shape} token`)
    for (let pair = 0; pair < Number(args.pairs); pair++) {
      for (const [label, path] of [
        ['baseline ', baseline],
        ['candidate', candidate],
      ]) {
        const out = execFileSync(process.execPath, [
          self,
          '--child',
          path,
          '--alg',
          alg,
          '--shape',
          args.shape,
          '--rounds',
          args.rounds,
        ])
        console.log(`${label} ${String(out).trim()}`)
      }
    }
  }
} else {
  const alg = args.alg
  const { createVerifier } = await import(pathToFileURL(args.child).href)
  const key = alg === 'HS256' ? undefined : createKey(alg)
  const shape = args.shape === 'small' ? claims : realisticClaims
  const tokens = Array.from({ length: 256 }, (_, i) =>
    signToken(alg, alg === 'HS256' ? SECRET : key, shape(i)),
  )
  const parts = splitTokens(tokens)
  const floor = floorCheck(alg, key)
  const issuer =
    alg === 'HS256'
      ? { issuer: ISSUER, audience: AUDIENCE, secret: SECRET, algorithms: ['HS256'] }
      : { issuer: ISSUER, audience: AUDIENCE, keys: { keys: [key.jwk] }, algorithms: [alg] }
  const verifier = createVerifier({ issuers: [issuer], logger: silentLogger, tokenCache: false })
  const fastJwt = createFastJwtVerifier({
    key: alg === 'HS256' ? SECRET : key.pem,
    algorithms: [alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    cache: false,
  })
  let i = 0
  const contenders = {
    floor: () => {
      const [data, sig] = parts[i++ & 255]
      return floor(data, sig)
    },
    trustgate: () => verifier.verify(tokens[i++ & 255]),
    'fast-jwt': () => fastJwt(tokens[i++ & 255]),
  }
  async function measure(fn, ms) {
    const start = process.hrtime.bigint()
    const deadline = start + BigInt(ms) * 1_000_000n
    let ops = 0
    let now = start
    while (now < deadline) {
      for (let k = 0; k < 50; k++) await fn()
      ops += 50
      now = process.hrtime.bigint()
    }
    return Number(now - start) / ops
  }
  const names = Object.keys(contenders)
  for (const name of names) await measure(contenders[name], 200)
  const ns = Object.fromEntries(names.map((name) => [name, []]))
  for (let round = 0; round < Number(args.rounds); round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length]
      ns[name].push(await measure(contenders[name], 250))
    }
  }
  // ns per operation: the ratio to the floor is floor ns over contender ns.
  const ofFloor = (name) => pairedRatio(ns.floor, ns[name]).toFixed(3)
  process.stdout.write(
    `trustgate ${median(ns.trustgate).toFixed(0)} ns ${ofFloor('trustgate')}x floor   ` +
      `fast-jwt ${median(ns['fast-jwt']).toFixed(0)} ns ${ofFloor('fast-jwt')}x floor\n`,
  )
}
