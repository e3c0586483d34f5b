/**
 * HTTP benchmark on 127.0.0.1: bare Fastify and Express beside each with trustgate (verified-token
 * cache on and off) and with the usual alternatives, on one RS256 token, with the JWKS served by a
 * local server. Each server runs in its own process pinned to CPU 0 (`taskset -c 0`); autocannon
 * runs in another process pinned to CPU 1. Rows are interleaved round by round, and each auth row
 * is reported as a ratio to its bare framework measured in the same run: the median of the ratios
 * of each round.
 *
 *   node http.bench.mjs [--rounds 5] [--duration 3] [--connections 32] [--json out.json]
 */
import { execFileSync, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  AUDIENCE,
  ISSUER,
  createKey,
  median,
  pairedRatio,
  realisticClaims,
  signToken,
} from './fixtures.mjs'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '32' },
    json: { type: 'string' },
    rows: { type: 'string' },
  },
})
const ROWS = args.rows?.split(',') ?? [
  'fastify',
  'fastify+ceiling',
  'fastify+trustgate',
  'fastify+trustgate-revocation',
  'fastify+trustgate-uncached',
  'fastify+@fastify/jwt',
  'fastify+fastify-jwt-jwks',
  'express',
  'express+ceiling',
  'express+trustgate',
  'express+trustgate-revocation',
  'express+trustgate-uncached',
  'express+express-oauth2-jwt-bearer',
  'express+express-jwt',
]
const here = (file) => fileURLToPath(new URL(file, import.meta.url))
const AUTOCANNON = here('./node_modules/autocannon/autocannon.js')

let pinned = availableParallelism() >= 2
try {
  execFileSync('taskset', ['-c', '0', 'true'])
} catch {
  pinned = false
}
const onCpu = (cpu, argv) =>
  pinned ? ['taskset', ['-c', String(cpu), ...argv]] : [argv[0], argv.slice(1)]

// The issuer's keys, served over HTTP on 127.0.0.1 like an IdP's JWKS endpoint.
const key = createKey('RS256', 'http-bench')
let jwksHits = 0
const jwksServer = createServer((req, res) => {
  jwksHits++
  res
    .writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ keys: [key.jwk] }))
})
await new Promise((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
const jwksUri = `http://127.0.0.1:${jwksServer.address().port}/.well-known/jwks.json`
// The Auth0-shaped token of micro.bench.mjs (about 900 characters), as most production tokens are.
const token = signToken('RS256', key, realisticClaims(1))
const config = JSON.stringify({
  issuer: ISSUER,
  audience: AUDIENCE,
  jwksUri,
  publicKeyPem: key.pem,
  token,
})

async function startRow(row) {
  const [cmd, argv] = onCpu(0, [process.execPath, here('./http-server.mjs')])
  const child = spawn(cmd, argv, {
    env: { ...process.env, BENCH_ROW: row, BENCH_CONFIG: config, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      const match = /LISTENING (\d+)/.exec(out)
      if (match) resolve(Number(match[1]))
    })
    child.on('exit', (code) => reject(new Error(`${row} exited with ${code}`)))
  })
  const url = `http://127.0.0.1:${port}/me`
  // The row must do what it claims: the token is accepted, and for an auth row a bad one is not.
  const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
  if (ok.status !== 200) throw new Error(`${row}: the valid token got ${ok.status}`)
  // The ceiling rows check no token: they only cost what one crypto.verify costs.
  if (row.includes('+') && !row.endsWith('+ceiling')) {
    const forged = `${token.slice(0, -4)}AAAA`
    const bad = await fetch(url, { headers: { authorization: `Bearer ${forged}` } })
    if (bad.status !== 401) throw new Error(`${row}: a forged token got ${bad.status}`)
  }
  return { child, url }
}

function load(url, seconds) {
  const [cmd, argv] = onCpu(1, [
    process.execPath,
    AUTOCANNON,
    '-c',
    args.connections,
    '-d',
    String(seconds),
    '-j',
    '-n',
    '-H',
    `authorization=Bearer ${token}`,
    url,
  ])
  // Asynchronous, so that this process keeps serving the JWKS while the load runs.
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'ignore'] })
  let out = ''
  child.stdout.on('data', (chunk) => (out += chunk))
  return new Promise((resolve, reject) => {
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`autocannon exited with ${code}`)),
    )
  })
}

const samples = new Map(ROWS.map((row) => [row, []]))
const rounds = Number(args.rounds)
const started = Date.now()
for (let round = 0; round < rounds; round++) {
  // Alternate the order, so that no row always runs first or last.
  const order = round % 2 === 0 ? ROWS : [...ROWS].reverse()
  for (const row of order) {
    const { child, url } = await startRow(row)
    try {
      await load(url, Number(args.warmup))
      const result = await load(url, Number(args.duration))
      if (result.non2xx !== 0 || result.errors !== 0 || result.timeouts !== 0) {
        throw new Error(
          `${row}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
        )
      }
      samples.get(row).push({ rps: result.requests.average, p99: result.latency.p99 })
      process.stderr.write(
        `round ${round + 1} ${row}: ${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms\n`,
      )
    } finally {
      child.kill()
      await new Promise((resolve) => child.once('exit', resolve))
    }
  }
}
jwksServer.close()

const results = ROWS.map((row) => {
  const list = samples.get(row)
  return {
    row,
    rps: median(list.map((s) => s.rps)),
    p99: median(list.map((s) => s.p99)),
    rounds: list.map((s) => s.rps),
  }
})
const bare = (row) => results.find((r) => r.row === row.split('+')[0])
console.log(
  `HTTP, RS256, ${args.connections} connections, ${args.duration} s x ${rounds} rounds per row (median), ` +
    `${pinned ? 'server on CPU 0, autocannon on CPU 1' : 'NOT pinned (taskset or a 2nd CPU missing)'}, ` +
    `${Math.round((Date.now() - started) / 1000)} s in all, ${jwksHits} JWKS fetches\n`,
)
console.log('| framework + auth | req/s | p99 (ms, 1 ms resolution) | x bare |')
console.log('|---|---:|---:|---:|')
for (const r of results) {
  // Paired: each round's req/s over the bare framework's of the same round, then the median.
  r.ratio = pairedRatio(r.rounds, bare(r.row).rounds)
  console.log(
    `| ${r.row} | ${Math.round(r.rps).toLocaleString('en-US')} | ${r.p99} | ${r.ratio.toFixed(2)} |`,
  )
}
if (args.json !== undefined) writeFileSync(args.json, JSON.stringify(results, null, 2))
