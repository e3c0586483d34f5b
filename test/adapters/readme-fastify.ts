import Fastify from 'fastify'
import { authenticate, jwtAuth, requireScopes, type IssuerConfig } from '@trustgate/fastify'

// issuers: [{ issuer: 'https://auth.example.com', audience: 'https://api.example.com',
//             jwksUri: 'https://auth.example.com/.well-known/jwks.json' }]
export async function createApp(issuers: IssuerConfig[]) {
  const app = Fastify({ logger: { level: 'warn' } }) // trustgate logs through app.log
  await app.register(jwtAuth, { issuers })

  app.get('/public', async (req) => ({ who: req.principal?.key ?? null }))
  app.get('/me', { preHandler: authenticate }, async (req) => ({ key: req.principal?.key }))
  app.get('/orders', { preHandler: requireScopes('orders:read') }, async () => ({ orders: [] }))
  return app
}
