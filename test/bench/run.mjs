/**
 * Runs the three benchmarks in turn (micro, heap, HTTP) and writes RESULTS.md with the date, the
 * Node version, the versions of the peers and the machine. About 5 minutes in all.
 *
 *   node run.mjs [--no-write]
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({ options: { 'no-write': { type: 'boolean', default: false } } })
const here = (file) => fileURLToPath(new URL(file, import.meta.url))
const require = createRequire(import.meta.url)

function run(script, argv = [], nodeFlags = []) {
  process.stderr.write(`\n== ${script} ${argv.join(' ')}\n`)
  return execFileSync(process.execPath, [...nodeFlags, here(script), ...argv], {
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  }).toString()
}

function version(name) {
  const { version } = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8'))
  return `${name} ${version}`
}

const started = new Date()
const load = (await import('node:os')).loadavg()
const micro = run('micro.bench.mjs')
process.stdout.write(micro)
const heap = run('heap.bench.mjs', [], ['--expose-gc'])
process.stdout.write(heap)
const http = run('http.bench.mjs')
process.stdout.write(http)
const loadAfter = (await import('node:os')).loadavg()

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
if (!args['no-write']) writeFileSync(here('RESULTS.md'), text)
