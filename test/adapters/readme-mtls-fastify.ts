import Fastify from 'fastify'
import { authenticate, jwtAuth, type IssuerConfig } from '@trustgate/fastify'

// The API terminates TLS itself: each request's certificate is its connection's.
export async function createApp(issuers: IssuerConfig[], tls: { key: string; cert: string }) {
  const app = Fastify({
    // Ask for a client certificate; a self-signed one is fine, the token's binding decides.
    https: { ...tls, requestCert: true, rejectUnauthorized: false },
  })
  await app.register(jwtAuth, { issuers, mtls: { required: true } })

  app.get('/me', { preHandler: authenticate }, async (req) => ({ key: req.principal?.key }))
  return app
}
