/**
 * The @trustgate/redis README example, run as written (readme-redis.ts is pasted verbatim into
 * packages/redis/README.md): two instances of the app over one real Redis; a log-out-everywhere
 * on one refuses the user's earlier tokens on the other.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKey, jwks, nowSeconds, sign, type TestKey } from '../helpers/keys.js'
import { startRedis, type TestRedis } from '../helpers/redis.js'
import { createApp } from './readme-redis.js'

const ISS = 'https://auth.example.com'
let redis: TestRedis
let key: TestKey

beforeAll(async () => {
  redis = await startRedis()
  key = await createKey('ES256')
})

afterAll(async () => {
  await redis.close()
})

describe('the @trustgate/redis README example', () => {
  it('is in the README verbatim', () => {
    const readme = readFileSync(new URL('../../packages/redis/README.md', import.meta.url), 'utf8')
    const code = readFileSync(new URL('./readme-redis.ts', import.meta.url), 'utf8')
    expect(readme).toContain('```ts\n' + code + '```')
  })

  it('logs a user out of every instance', async () => {
    const issuers = [{ issuer: ISS, audience: 'api', keys: jwks(key) }]
    const [one, two] = await Promise.all([
      createApp(redis.url, issuers),
      createApp(redis.url, issuers),
    ])
    try {
      const earlier = await sign(key, { iss: ISS, aud: 'api', sub: 'alice', iat: nowSeconds() - 5 })
      const bob = await sign(key, { iss: ISS, aud: 'api', sub: 'bob' })
      const get = (app: typeof one, token: string) =>
        app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })
      expect((await get(two, earlier)).statusCode).toBe(200)
      const out = await one.inject({
        method: 'POST',
        url: '/logout-everywhere',
        headers: { authorization: `Bearer ${earlier}` },
      })
      expect(out.json()).toEqual({ loggedOut: true })
      let answer = await get(two, earlier)
      for (let i = 0; i < 100 && answer.statusCode === 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
        answer = await get(two, earlier)
      }
      expect(answer.statusCode).toBe(401)
      expect(answer.json()).toEqual({
        error: 'invalid_token',
        error_description: 'The token has been revoked',
      })
      // Someone else's token is untouched, and a new login of alice's passes.
      expect((await get(two, bob)).statusCode).toBe(200)
      const later = await sign(key, { iss: ISS, aud: 'api', sub: 'alice', iat: nowSeconds() + 1 })
      expect((await get(two, later)).statusCode).toBe(200)
    } finally {
      await Promise.all([one.close(), two.close()])
    }
  })
})
