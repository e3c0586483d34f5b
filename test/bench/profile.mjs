/**
 * Profiles one row of the HTTP benchmark: starts its server under `node --cpu-prof` on CPU 0, puts
 * autocannon on it from CPU 1, and prints the functions with the most self time.
 *
 *   node profile.mjs fastify+trustgate-uncached [seconds=5] [dir=/tmp/trustgate-prof]
 */
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AUDIENCE, ISSUER, createKey, realisticClaims, signToken } from './fixtures.mjs'

const [row = 'fastify+trustgate-uncached', seconds = '5', dir = '/tmp/trustgate-prof'] =
  process.argv.slice(2)
const here = (file) => fileURLToPath(new URL(file, import.meta.url))
rmSync(dir, { recursive: true, force: true })
mkdirSync(dir, { recursive: true })

const key = createKey('RS256', 'profile')
const token = signToken('RS256', key, realisticClaims(1))
const jwks = createServer((req, res) => {
  res
    .writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ keys: [key.jwk] }))
})
await new Promise((resolve) => jwks.listen(0, '127.0.0.1', resolve))
const config = JSON.stringify({
  issuer: ISSUER,
  audience: AUDIENCE,
  jwksUri: `http://127.0.0.1:${jwks.address().port}/jwks`,
  publicKeyPem: key.pem,
  token,
})
const server = spawn(
  'taskset',
  ['-c', '0', process.execPath, '--cpu-prof', `--cpu-prof-dir=${dir}`, here('./http-server.mjs')],
  {
    env: { ...process.env, BENCH_ROW: row, BENCH_CONFIG: config },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
)
const port = await new Promise((resolve) => {
  server.stdout.on('data', (chunk) => {
    const match = /LISTENING (\d+)/.exec(String(chunk))
    if (match) resolve(match[1])
  })
})
const autocannon = here('./node_modules/autocannon/autocannon.js')
await new Promise((resolve) =>
  spawn(
    'taskset',
    [
      '-c',
      '1',
      process.execPath,
      autocannon,
      '-c',
      '32',
      '-d',
      seconds,
      '-H',
      `authorization=Bearer ${token}`,
      `http://127.0.0.1:${port}/me`,
    ],
    { stdio: 'inherit' },
  ).on('exit', resolve),
)
server.kill('SIGINT')
await new Promise((resolve) => server.once('exit', resolve))
jwks.close()

// Self time per function, as a share of the profile.
const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'))
const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
const self = new Map()
let total = 0
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0
  const frame = frames.get(id)
  const name = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber}`
  self.set(name, (self.get(name) ?? 0) + delta)
  total += delta
})
console.log(`\n${join(dir, file)}\nself time, top 25:`)
for (const [name, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  console.log(`${((100 * time) / total).toFixed(1).padStart(5)}%  ${name}`)
}
