import Fastify from 'fastify'
import { jwtAuth } from '@trustgate/fastify'
import { AUDIENCE, ISSUER, SECRET, check } from '../token.cjs'

const app = Fastify()
await app.register(jwtAuth, { issuers: [{ issuer: ISSUER, audience: AUDIENCE, secret: SECRET }] })
app.get('/me', { preHandler: app.authenticate }, async (request) => {
  const key: string | undefined = request.principal?.key
  return { key }
})
const address = await app.listen({ port: 0, host: '127.0.0.1' })
try {
  await check(address)
} finally {
  await app.close()
}
