/**
 * Runs the three benchmarks in turn (micro, heap, HTTP) and writes RESULTS.md with the date, the
 * Node version, the versions of the peers and the machine. About 5 minutes in all.
 *
 *   node run.mjs [--no-write]
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({
  options: {
    'no-write': { type: 'boolean', default: false },
    // A smoke run of the whole pipeline in under a minute; its numbers mean little.
    quick: { type: 'boolean', default: false },
  },
})
const quick = (flags) => (args.quick ? flags : [])
const here = (file) => fileURLToPath(new URL(file, import.meta.url))

function run(script, argv = [], nodeFlags = []) {
  process.stderr.write(`\n== ${script} ${argv.join(' ')}\n`)
  return execFileSync(process.execPath, [...nodeFlags, here(script), ...argv], {
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  }).toString()
}

// Read from this package's node_modules: not every peer exports its package.json.
function version(name) {
  const { version } = JSON.parse(readFileSync(here(`node_modules/${name}/package.json`), 'utf8'))
  return `${name} ${version}`
}

const started = new Date()
const load = loadavg()
const tmp = mkdtempSync(join(tmpdir(), 'trustgate-bench-'))
const micro = run('micro.bench.mjs', [
  '--json',
  join(tmp, 'micro.json'),
  ...quick(['--rounds', '1', '--ms', '50']),
])
process.stdout.write(micro)
const heap = run('heap.bench.mjs', quick(['--tokens', '20000']), ['--expose-gc'])
process.stdout.write(heap)
const http = run('http.bench.mjs', [
  '--json',
  join(tmp, 'http.json'),
  ...quick(['--rounds', '1', '--duration', '1', '--warmup', '1']),
])
process.stdout.write(http)
// The diagnostics channels: without a subscriber within noise, and the cost of one (issue 14).
process.stdout.write(run('observe.bench.mjs', quick(['--rounds', '3', '--ms', '50'])))
const loadAfter = loadavg()

// The goals of the performance issue, each computed from this run's numbers.
const microRows = JSON.parse(readFileSync(join(tmp, 'micro.json'), 'utf8'))
const httpRows = JSON.parse(readFileSync(join(tmp, 'http.json'), 'utf8'))
const m = (alg, name) => microRows.find((r) => r.alg === alg && r.name.startsWith(name))
const h = (row) => httpRows.find((r) => r.row === row)
const floorRs = m('RS256', 'floor').opsPerSec
// A trustgate that cost nothing but the floor's crypto.verify could reach at most this ratio.
const ceiling = (bare) => floorRs / (floorRs + h(bare).rps)
const goals = [
  ...['RS256', 'ES256', 'EdDSA'].map((alg) => [
    `core uncached verify() >= 0.75x the floor, ${alg}`,
    m(alg, 'trustgate verify() uncached').ratioToFloor,
    0.75,
    '',
  ]),
  [
    'cache-hit verify() >= 20x uncached, RS256',
    m('RS256', 'trustgate verify() cache hit').opsPerSec /
      m('RS256', 'trustgate verify() uncached').opsPerSec,
    20,
    '',
  ],
  ['Fastify + trustgate, cache on >= 0.8x bare Fastify', h('fastify+trustgate').ratio, 0.8, ''],
  [
    'Fastify + trustgate, cache off >= 0.4x bare Fastify',
    h('fastify+trustgate-uncached').ratio,
    0.4,
    `ceiling with zero overhead: ${ceiling('fastify').toFixed(2)}`,
  ],
  ['Express + trustgate, cache on >= 0.8x bare Express', h('express+trustgate').ratio, 0.8, ''],
  ...['express+express-oauth2-jwt-bearer', 'express+express-jwt'].map((peer) => [
    `Express + trustgate, cache off, ratio >= 1.5x that of ${peer.split('+')[1]}`,
    h('express+trustgate-uncached').ratio / h(peer).ratio,
    1.5,
    `ceiling with zero overhead: ${(ceiling('express') / h(peer).ratio).toFixed(2)}`,
  ]),
]
const goalTable = [
  '| goal | this run | target | met | note |',
  '|---|---:|---:|---|---|',
  ...goals.map(
    ([goal, value, target, note]) =>
      `| ${goal} | ${value.toFixed(2)} | ${target} | ${value >= target ? 'yes' : 'no'} | ${note} |`,
  ),
].join('\n')
process.stdout.write(`\n${goalTable}\n`)

const peers = [
  'jose',
  'fast-jwt',
  'aws-jwt-verify',
  'jsonwebtoken',
  'fastify',
  '@fastify/jwt',
  'fastify-jwt-jwks',
  'express',
  'express-oauth2-jwt-bearer',
  'express-jwt',
  'jwks-rsa',
  'autocannon',
].map(version)

const cpu = cpus()
const text = `# trustgate benchmark results

Taken ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench\` (test/bench/run.mjs).

- Node ${process.version}, ${process.platform} ${process.arch}
- Machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB
- Load average before / after: ${load.map((l) => l.toFixed(2)).join(' ')} / ${loadAfter.map((l) => l.toFixed(2)).join(' ')}
- Peers: ${peers.join(', ')}

## Goals of the performance issue

The "ceiling" is the ratio a trustgate costing nothing beyond one RS256 \`crypto.verify\` (the
floor measured above) would reach against that bare framework on this machine.

${goalTable}

## verify() per algorithm

Medians over 5 rounds of 300 ms each, contenders interleaved; "x floor" is the ratio to Node's
synchronous \`crypto.verify\` alone on a KeyObject with the signature already decoded (for HS256,
\`createHmac\` + \`timingSafeEqual\`). Uncached rows use \`tokenCache: false\` and 256 distinct tokens.

${micro.trim()}

## Memory of the verified-token cache

${heap.trim()}

## HTTP on 127.0.0.1

${http.trim()}
`
if (!args['no-write'] && !args.quick) writeFileSync(here('RESULTS.md'), text)
