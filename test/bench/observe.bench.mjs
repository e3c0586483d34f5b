/**
 * The cost of trustgate's diagnostics channels (`trustgate:verify`): ops/s of the cache-hit path
 * (`authenticateCached`, the common request) and of an uncached ES256 `verify()`, without a
 * subscriber and with one (a no-op listener). Two identical no-subscriber contenders run side by
 * side, so the noise of this machine is measured in the same run: "within noise" means the gap
 * between "no subscriber" and its twin is as large as any difference the channels make.
 * Contenders are interleaved and rotated across rounds; medians of ops per CPU-second are reported.
 *
 *   node observe.bench.mjs [--rounds 15] [--ms 100]
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { parseArgs } from 'node:util'
import { createVerifier, VERIFY_CHANNEL } from '@trustgate/core'
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
    rounds: { type: 'string', default: '15' },
    ms: { type: 'string', default: '100' },
  },
})
const ROUNDS = Number(args.rounds)
const ROUND_MS = Number(args.ms)
const TOKENS = 256

const key = createKey('ES256')
const tokens = Array.from({ length: TOKENS }, (_, i) => signToken('ES256', key, claims(i)))
const headers = tokens.map((token) => `Bearer ${token}`)
const issuer = {
  issuer: ISSUER,
  audience: AUDIENCE,
  keys: { keys: [key.jwk] },
  algorithms: ['ES256'],
}
const cached = createVerifier({ issuers: [issuer], logger: silentLogger })
const uncached = createVerifier({ issuers: [issuer], logger: silentLogger, tokenCache: false })
for (const token of tokens) await cached.verify(token)

let sink = 0
const listener = () => {
  sink++
}

/**
 * Runs `fn` for ROUND_MS of wall time, in batches, and returns ops per second of this process's
 * CPU time: on a shared machine, time spent descheduled is not counted against a contender.
 */
async function measure(fn, subscribed, sync) {
  if (subscribed) subscribe(VERIFY_CHANNEL, listener)
  try {
    let ops = 0
    const cpu = process.cpuUsage()
    const end = process.hrtime.bigint() + BigInt(ROUND_MS) * 1_000_000n
    while (process.hrtime.bigint() < end) {
      if (sync) for (let i = 0; i < 256; i++) fn(ops++)
      else for (let i = 0; i < 256; i++) await fn(ops++)
    }
    const used = process.cpuUsage(cpu)
    return ops / ((used.user + used.system) / 1e6)
  } finally {
    if (subscribed) unsubscribe(VERIFY_CHANNEL, listener)
  }
}

const hit = (i) => {
  if (cached.authenticateCached(headers[i & (TOKENS - 1)]) === undefined) throw new Error('miss')
}
const full = (i) => uncached.verify(tokens[i & (TOKENS - 1)])

const contenders = [
  ['cache hit, no subscriber', hit, false],
  ['cache hit, no subscriber (twin)', hit, false],
  ['cache hit, subscriber', hit, true],
  ['uncached ES256, no subscriber', full, false],
  ['uncached ES256, no subscriber (twin)', full, false],
  ['uncached ES256, subscriber', full, true],
]
const results = new Map(contenders.map(([name]) => [name, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < contenders.length; k++) {
    const [name, fn, subscribed] = contenders[(k + round) % contenders.length]
    results.get(name).push(await measure(fn, subscribed, fn === hit))
  }
}
if (sink === 0) throw new Error('the subscriber saw nothing')

const rows = contenders.map(([name]) => [name, median(results.get(name))])
const ops = Object.fromEntries(rows)
console.log(
  `diagnostics channel cost (median of ${String(ROUNDS)} rounds of ${String(ROUND_MS)} ms)`,
)
for (const [name, value] of rows) {
  console.log(
    `  ${name.padEnd(38)} ${Math.round(value).toLocaleString('en-US').padStart(12)} ops/s`,
  )
}
for (const path of ['cache hit', 'uncached ES256']) {
  const base = ops[`${path}, no subscriber`]
  const twin = ops[`${path}, no subscriber (twin)`]
  const sub = ops[`${path}, subscriber`]
  const noise = Math.abs(base - twin) / base
  const nsPerOp = (1e9 / sub - 1e9 / base).toFixed(0)
  console.log(
    `  ${path}: twins differ by ${(noise * 100).toFixed(1)}% (the noise); a subscriber costs ` +
      `${(((base - sub) / base) * 100).toFixed(1)}% (${nsPerOp} ns per verification)`,
  )
}
