/**
 * Two real API processes behind one real Redis, as behind a load balancer: A is Fastify (over
 * node-redis), B is Express (over ioredis). What one instance learns, the other must honour: a
 * DPoP proof used on A is refused on B (and any one-time value claimed through the store), a
 * token revoked through A is refused on B within
 * the propagation delay the README states, and a principal-wide revocation refuses every earlier
 * token of that principal on B while a later token passes.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { principalKey } from '@trustgate/core'
import { mintProof, thumbprint } from '../helpers/dpop.js'
import { createKey, jwks, nowSeconds, sign, type TestKey } from '../helpers/keys.js'
import { startRedis, type TestRedis } from '../helpers/redis.js'

const INSTANCE = fileURLToPath(new URL('../../examples/redis/instance.js', import.meta.url))
const ISS = 'https://idp.multi.test'
// Both instances serve one public origin, as behind a load balancer: a proof is valid on either.
const ORIGIN = 'https://api.multi.test'
// The README's stated bound: pub/sub delivers in milliseconds; without it, an instance that
// serves requests pulls within syncInterval (1 s) plus one round trip.
const STATED_DELAY_MS = 1000

interface Instance {
  readonly url: string
  readonly child: ChildProcess
}

let redis: TestRedis
let key: TestKey
let a: Instance
let b: Instance

function startInstance(framework: 'fastify' | 'express'): Promise<Instance> {
  const child = spawn(process.execPath, [INSTANCE], {
    env: {
      ...process.env,
      FRAMEWORK: framework,
      REDIS_URL: redis.url,
      TRUSTGATE_ISSUERS: JSON.stringify([{ issuer: ISS, audience: 'api', keys: jwks(key) }]),
      PUBLIC_ORIGIN: ORIGIN,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      out += chunk
      const match = /LISTENING (\d+)/.exec(out)
      if (match) resolve({ url: `http://127.0.0.1:${match[1]}`, child })
    })
    child.once('exit', (code) => reject(new Error(`${framework} instance exited with ${code}`)))
  })
}

async function stopInstance(instance: Instance | undefined): Promise<void> {
  if (instance === undefined || instance.child.exitCode !== null) return
  const exited = new Promise((resolve) => instance.child.once('exit', resolve))
  instance.child.kill('SIGTERM')
  const timer = setTimeout(() => instance.child.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}

function me(instance: Instance, token: string): Promise<Response> {
  return fetch(`${instance.url}/me`, { headers: { authorization: `Bearer ${token}` } })
}

async function post(instance: Instance, path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${instance.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(response.status).toBe(200)
  return response.json()
}

/** Polls until `instance` refuses `token` as revoked; the time it took, or Infinity. */
async function refusedWithin(instance: Instance, token: string, ms: number): Promise<number> {
  const started = performance.now()
  while (performance.now() - started <= ms) {
    const response = await me(instance, token)
    if (response.status === 401) {
      const body = (await response.json()) as { error: string; error_description: string }
      expect(body).toEqual({
        error: 'invalid_token',
        error_description: 'The token has been revoked',
      })
      return performance.now() - started
    }
    expect(response.status).toBe(200)
  }
  return Number.POSITIVE_INFINITY
}

beforeAll(async () => {
  redis = await startRedis()
  key = await createKey('ES256', { kid: 'multi' })
  ;[a, b] = await Promise.all([startInstance('fastify'), startInstance('express')])
})

afterAll(async () => {
  await Promise.all([stopInstance(a), stopInstance(b)])
  await redis?.close()
})

describe('two instances sharing one Redis', () => {
  it('refuses on B a DPoP proof already used on A', async () => {
    const client = await createKey('ES256', { kid: 'client' })
    const token = await sign(key, {
      iss: ISS,
      aud: 'api',
      sub: 'dora',
      cnf: { jkt: await thumbprint(client) },
    })
    const call = (instance: Instance, proof: string) =>
      fetch(`${instance.url}/me`, { headers: { authorization: `DPoP ${token}`, dpop: proof } })
    const proof = await mintProof(client, { token, htu: `${ORIGIN}/me` })
    expect((await call(a, proof)).status).toBe(200)
    const replayed = await call(b, proof)
    expect(replayed.status).toBe(401)
    expect(((await replayed.json()) as { error: string }).error).toBe('invalid_dpop_proof')
    // The honest twin: a fresh proof of the same key is accepted on B.
    const fresh = await mintProof(client, { token, htu: `${ORIGIN}/me` })
    expect((await call(b, fresh)).status).toBe(200)
  })

  it('refuses on B a one-time value already claimed on A', async () => {
    expect(await post(a, '/claim', { key: 'proof-jti-1' })).toEqual({ first: true })
    expect(await post(b, '/claim', { key: 'proof-jti-1' })).toEqual({ first: false })
    // The honest twin: a fresh value is accepted on B.
    expect(await post(b, '/claim', { key: 'proof-jti-2' })).toEqual({ first: true })
  })

  it('refuses on B a token revoked through A, within the stated delay', async () => {
    const token = await sign(key, { iss: ISS, aud: 'api', sub: 'alice', jti: 'stolen' })
    const twin = await sign(key, { iss: ISS, aud: 'api', sub: 'alice', jti: 'other-device' })
    // Both instances have verified (and cached) both tokens.
    for (const instance of [a, b]) {
      expect((await me(instance, token)).status).toBe(200)
      expect((await me(instance, twin)).status).toBe(200)
    }
    const exp = nowSeconds() + 3600
    const started = performance.now()
    await post(a, '/admin/revoke', { issuer: ISS, jti: 'stolen', expiresAt: exp })
    const revokeMs = performance.now() - started
    const delay = await refusedWithin(b, token, STATED_DELAY_MS)
    console.log(
      `revocation: A stored the rule in ${revokeMs.toFixed(1)} ms; B refused the token ` +
        `${delay.toFixed(1)} ms after A answered (stated bound ${STATED_DELAY_MS} ms)`,
    )
    expect(delay).toBeLessThanOrEqual(STATED_DELAY_MS)
    expect((await me(a, token)).status).toBe(401)
    // The other token of the same principal is not touched.
    expect((await me(b, twin)).status).toBe(200)
    expect((await me(a, twin)).status).toBe(200)
  })

  it('refuses on B every token of a principal issued before the cut-off, and accepts a later one', async () => {
    const now = nowSeconds()
    const older = await sign(key, { iss: ISS, aud: 'api', sub: 'bob', iat: now - 600 })
    const recent = await sign(key, { iss: ISS, aud: 'api', sub: 'bob', iat: now - 1 })
    const carol = await sign(key, { iss: ISS, aud: 'api', sub: 'carol', iat: now - 1 })
    for (const token of [older, recent, carol]) expect((await me(b, token)).status).toBe(200)

    await post(a, '/admin/revoke', { principal: principalKey(ISS, 'bob'), before: now })
    expect(await refusedWithin(b, recent, STATED_DELAY_MS)).toBeLessThanOrEqual(STATED_DELAY_MS)
    expect((await me(b, older)).status).toBe(401)
    // Issued after the cut-off (a new login): accepted on both.
    const later = await sign(key, { iss: ISS, aud: 'api', sub: 'bob', iat: now + 1 })
    expect((await me(b, later)).status).toBe(200)
    expect((await me(a, later)).status).toBe(200)
    // Another principal of the same issuer is not touched.
    expect((await me(b, carol)).status).toBe(200)
  })
})
