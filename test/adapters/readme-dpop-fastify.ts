import Fastify from 'fastify'
import { authenticate, jwtAuth, type IssuerConfig } from '@trustgate/fastify'

// DPoP-bound tokens (RFC 9449). `origin` is the URL clients call, the one their proofs name.
export async function createApp(issuers: IssuerConfig[], nonceSecret: string) {
  const app = Fastify()
  await app.register(jwtAuth, {
    issuers,
    origin: 'https://api.example.com',
    dpop: {
      required: true, // plain bearer tokens are refused too
      nonce: { secret: nonceSecret }, // >= 32 bytes, the same on every instance
      // replayStore: createRedisStore({ client }), shared by every instance (@trustgate/redis)
    },
  })
  app.get('/me', { preHandler: authenticate }, async (req) => ({ key: req.principal?.key }))
  return app
}
