/**
 * One instance of an API behind a load balancer, sharing its revocation rules and replay claims
 * with every other instance through Redis (@trustgate/redis). Started as its own process by
 * examples/redis/demo.js and by test/redis/multi-instance.test.ts:
 *
 *   FRAMEWORK=fastify|express REDIS_URL=redis://127.0.0.1:6379 TRUSTGATE_ISSUERS='[...]' \
 *     node examples/redis/instance.js
 *
 * The Fastify instance talks to Redis through node-redis, the Express one through ioredis: the
 * store takes whichever client the app already has. Prints `LISTENING <port>` once it serves.
 *
 * With `PUBLIC_ORIGIN=https://api.example.com`, DPoP is on (both instances share that origin).
 *
 * Routes: `GET /me` (a principal is required), `POST /claim` (a one-time value claimed in the
 * shared replay store, as DPoP claims a proof's jti), and `POST /admin/revoke`, which revokes
 * the rule in its JSON body. An admin route like this one must be protected in a real API (an
 * admin scope, an internal port): here it is the demo's way to reach `verifier.revoke`.
 */
import { once } from 'node:events'
import { createRedisStore } from '@trustgate/redis'

const framework = process.env.FRAMEWORK ?? 'fastify'
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const issuers = JSON.parse(process.env.TRUSTGATE_ISSUERS ?? '[]')
const port = Number(process.env.PORT ?? 0)
const logger = (await import('pino')).pino({ level: process.env.LOG_LEVEL ?? 'warn' })

// Redis clients as the @trustgate/redis README advises: no offline queue, quick reconnects.
async function nodeRedisClient() {
  const { createClient } = await import('redis')
  const client = createClient({
    url: redisUrl,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2000) },
  })
  client.on('error', (error) => logger.warn({ err: error.message }, 'redis'))
  await client.connect()
  return { client, quit: () => client.close() }
}

async function ioRedisClient() {
  const { Redis } = await import('ioredis')
  const client = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  client.on('error', (error) => logger.warn({ err: error.message }, 'redis'))
  if (client.status !== 'ready') await once(client, 'ready')
  return { client, quit: () => client.quit() }
}

const redis = framework === 'fastify' ? await nodeRedisClient() : await ioRedisClient()
const store = createRedisStore({ client: redis.client, logger })
// `before` and `expiresAt` of a rule sent to /admin/revoke are seconds since the epoch, as `iat`.
// With PUBLIC_ORIGIN (the one origin clients call, as behind a load balancer), DPoP is on and
// proof jtis are claimed in the same Redis: a proof used on one instance is refused on the others.
const publicOrigin = process.env.PUBLIC_ORIGIN
const options = {
  issuers,
  logger,
  revocation: { store },
  ...(publicOrigin === undefined ? {} : { dpop: { replayStore: store }, origin: publicOrigin }),
}

let close
if (framework === 'fastify') {
  const { default: Fastify } = await import('fastify')
  const { jwtAuth } = await import('@trustgate/fastify')
  const app = Fastify({ logger: false })
  await app.register(jwtAuth, options)
  app.get('/me', { preHandler: app.authenticate }, async (request) => ({
    instance: 'fastify',
    key: request.principal.key,
    jti: request.principal.claims.jti ?? null,
  }))
  app.post('/claim', async (request) => ({
    first: await store.claim(String(request.body.key), 60_000),
  }))
  app.post('/admin/revoke', async (request) => {
    await app.trustgate.revoke(request.body)
    return { revoked: true }
  })
  await app.listen({ port, host: '127.0.0.1' })
  console.log(`LISTENING ${app.server.address().port}`)
  close = () => app.close()
} else {
  const { default: express } = await import('express')
  const { jwtAuth, requireAuth } = await import('@trustgate/express')
  const app = express()
  const auth = jwtAuth({ ...options, respond: true })
  app.use(express.json())
  app.use(auth)
  app.get('/me', requireAuth(), (req, res) => {
    res.json({ instance: 'express', key: req.principal.key, jti: req.principal.claims.jti ?? null })
  })
  app.post('/claim', async (req, res) => {
    res.json({ first: await store.claim(String(req.body.key), 60_000) })
  })
  app.post('/admin/revoke', async (req, res) => {
    await auth.verifier.revoke(req.body)
    res.json({ revoked: true })
  })
  const server = app.listen(port, '127.0.0.1')
  await once(server, 'listening')
  console.log(`LISTENING ${server.address().port}`)
  close = () => new Promise((resolve) => server.close(resolve))
}

process.once('SIGTERM', async () => {
  await close()
  await store.close()
  await redis.quit()
})
