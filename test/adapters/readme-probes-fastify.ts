import Fastify from 'fastify'
import { jwtAuth, type IssuerConfig } from '@trustgate/fastify'

export async function createApp(issuers: IssuerConfig[]) {
  const app = Fastify({ logger: { level: 'warn' } })
  // app.ready() and listen() wait for the keys, and fail naming the issuers that have none
  await app.register(jwtAuth, { issuers, waitForKeys: { timeout: 5000 } })

  // Liveness from the process alone, never the IdP; readiness from health(): no network
  app.get('/livez', async () => ({ ok: true }))
  app.get('/readyz', async (_req, reply) => {
    const health = app.trustgate.health()
    return reply.code(health.ready ? 200 : 503).send(health)
  })
  return app
}
