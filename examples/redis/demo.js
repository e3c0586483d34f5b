/**
 * Two instances of one API and a revocation: `npm run demo:redis` (or
 * `node examples/redis/demo.js` after a build). Needs `redis-server` on the PATH
 * (Debian/Ubuntu: `apt-get install redis-server`); the demo starts its own, on a free port of
 * 127.0.0.1 with nothing saved, and stops it at the end.
 *
 * Instance A is Fastify (node-redis), instance B is Express (ioredis), each its own process
 * (examples/redis/instance.js), both trusting one issuer whose tokens this script signs. It shows:
 * a token accepted by both; the same token revoked through A and refused by B, with the time it
 * took; a "log out everywhere" (every token of a principal issued before now) and a new login
 * afterwards; a DPoP proof used on A and refused on B (its jti claimed in the same Redis).
 * Exits 0 when every answer is the expected one.
 */
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createHash, randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { startRedisServer } from './redis-server.js'

const INSTANCE = fileURLToPath(new URL('./instance.js', import.meta.url))
const ISSUER = 'https://id.demo.example'
// The one public origin of both instances, as behind a load balancer: DPoP proofs name it.
const ORIGIN = 'https://api.demo.example'
const children = []

if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) {
  console.error('redis-server is not installed (Debian/Ubuntu: apt-get install redis-server)')
  process.exit(1)
}

function startInstance(framework, env) {
  const child = spawn(process.execPath, [INSTANCE], {
    env: { ...process.env, ...env, FRAMEWORK: framework },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk) => {
      out += chunk
      const match = /LISTENING (\d+)/.exec(out)
      if (match) resolve(`http://127.0.0.1:${match[1]}`)
    })
    child.once('exit', (code) => reject(new Error(`${framework} exited with ${code}`)))
  })
}

const redis = await startRedisServer('trustgate-demo-redis-')
const { privateKey, publicKey } = await generateKeyPair('ES256')
const jwk = { ...(await exportJWK(publicKey)), kid: 'demo', alg: 'ES256', use: 'sig' }
const env = {
  REDIS_URL: redis.url,
  TRUSTGATE_ISSUERS: JSON.stringify([{ issuer: ISSUER, audience: 'api', keys: { keys: [jwk] } }]),
  PUBLIC_ORIGIN: ORIGIN,
}
const [a, b] = await Promise.all([startInstance('fastify', env), startInstance('express', env)])
const api = { 'A (fastify)': a, 'B (express)': b }

const now = () => Math.floor(Date.now() / 1000)
const token = (sub, claims = {}) =>
  new SignJWT({ sub, aud: 'api', iss: ISSUER, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'demo' })
    .setIssuedAt(claims.iat ?? now())
    .setExpirationTime(now() + 3600)
    .sign(privateKey)

/** Asks `url` with `t` until it answers 401 (2 s at most); the time that took, in ms. */
async function untilRefused(url, t) {
  const started = performance.now()
  for (;;) {
    const response = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${t}` } })
    await response.arrayBuffer()
    const elapsed = performance.now() - started
    if (response.status === 401 || elapsed > 2000) return elapsed
  }
}

let failures = 0
async function call(name, url, path, init, expected) {
  const response = await fetch(`${url}${path}`, init)
  const body = await response.json()
  const shown = body.error_description ?? JSON.stringify(body)
  const ok = response.status === expected
  if (!ok) failures++
  console.log(
    `${ok ? ' ' : '!'} ${name.padEnd(12)} ${init?.method ?? 'GET'} ${path.padEnd(14)} ${response.status}  ${shown}`,
  )
  return response
}
const me = (name, t, expected) =>
  call(name, api[name], '/me', { headers: { authorization: `Bearer ${t}` } }, expected)
const post = (name, path, body) =>
  call(
    name,
    api[name],
    path,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    200,
  )

console.log('1. One token, accepted by both instances')
const phone = await token('alice', { jti: 'alice-phone' })
const laptop = await token('alice', { jti: 'alice-laptop' })
await me('A (fastify)', phone, 200)
await me('B (express)', phone, 200)

console.log('\n2. The phone is stolen: its token is revoked through A, and B refuses it')
await post('A (fastify)', '/admin/revoke', {
  issuer: ISSUER,
  jti: 'alice-phone',
  expiresAt: now() + 3600,
})
const delay = await untilRefused(b, phone)
await me('B (express)', phone, 401)
await me('B (express)', laptop, 200)
console.log(`  B refused the revoked token ${delay.toFixed(1)} ms after A stored the rule`)

console.log('\n3. Alice logs out everywhere: every token of hers issued before now')
// Now, to the millisecond: a token issued earlier in this same second (iat is whole seconds) is
// refused too.
const cutoff = Date.now() / 1000
await post('A (fastify)', '/admin/revoke', { principal: `${ISSUER}|alice`, before: cutoff })
await untilRefused(b, laptop)
await me('B (express)', laptop, 401)
const relogin = await token('alice', { jti: 'alice-new', iat: Math.floor(cutoff) + 1 })
await me('B (express)', relogin, 200)
await me('A (fastify)', relogin, 200)

console.log('\n4. A DPoP proof used on A cannot be replayed on B')
const client = await generateKeyPair('ES256')
const clientJwk = await exportJWK(client.publicKey)
const bound = await token('dora', { cnf: { jkt: await calculateJwkThumbprint(clientJwk) } })
const proof = await new SignJWT({
  jti: randomUUID(),
  htm: 'GET',
  htu: `${ORIGIN}/me`,
  iat: now(),
  ath: createHash('sha256').update(bound).digest('base64url'),
})
  .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: clientJwk })
  .sign(client.privateKey)
const dpop = { headers: { authorization: `DPoP ${bound}`, dpop: proof } }
await call('A (fastify)', a, '/me', dpop, 200)
await call('B (express)', b, '/me', dpop, 401)
// Any one-time value can be claimed through the same store.
await post('A (fastify)', '/claim', { key: 'order-7c1e' })
await post('B (express)', '/claim', { key: 'order-7c1e' })

console.log(
  failures === 0 ? '\nevery answer was the expected one' : `\n${failures} unexpected answers`,
)

for (const child of children.reverse()) {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}
await redis.close()
process.exitCode = failures === 0 ? 0 : 1
