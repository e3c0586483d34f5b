import Fastify from 'fastify'
import { createClient } from 'redis'
import { jwtAuth, type IssuerConfig } from '@trustgate/fastify'
import { createRedisStore } from '@trustgate/redis'

export async function createApp(redisUrl: string, issuers: IssuerConfig[]) {
  // The app's own client. No offline queue: while Redis is down, a command fails at once
  // instead of waiting in memory (the store refuses to queue either way).
  const redis = createClient({ url: redisUrl, disableOfflineQueue: true })
  redis.on('error', () => {}) // reconnects by itself; the store logs what it refuses
  await redis.connect()
  const store = createRedisStore({ client: redis }) // onUnavailable: 'fail-closed' (503)

  const app = Fastify()
  await app.register(jwtAuth, { issuers, revocation: { store } })
  app.get('/me', { preHandler: app.authenticate }, async (request) => request.principal)
  // "Log out everywhere": every token of this user issued until now, on every instance.
  app.post('/logout-everywhere', { preHandler: app.authenticate }, async (request) => {
    await app.trustgate.revoke({ principal: request.principal!.key, before: new Date() })
    return { loggedOut: true }
  })
  app.addHook('onClose', async () => {
    await store.close()
    redis.destroy()
  })
  return app
}
