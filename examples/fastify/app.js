/**
 * A small orders API on Fastify, guarded by @trustgate/fastify: a public route, a route for any
 * authenticated caller, and a scope-guarded route.
 */
import Fastify from 'fastify'
import { authenticate, jwtAuth, requireScopes } from '@trustgate/fastify'

const ORDERS = [
  { id: 'o-1001', item: 'espresso beans', quantity: 2 },
  { id: 'o-1002', item: 'milk frother', quantity: 1 },
]

/**
 * Builds the app (it does not listen).
 * @param {object} options
 * @param {import('@trustgate/fastify').FastifyJwtAuthOptions} options.auth trustgate's options
 * @param {import('pino').Logger | boolean} [options.logger] a pino logger, or `true` for Fastify's own
 */
export async function buildApp({ auth, logger = true }) {
  const app = Fastify(typeof logger === 'boolean' ? { logger } : { loggerInstance: logger })
  // The plugin logs through app.log, so untrusted-issuer warnings carry the request id.
  await app.register(jwtAuth, auth)

  // Public: a caller without a token gets here with principal null.
  app.get('/health', async (request) => ({ ok: true, caller: request.principal?.key ?? null }))

  // Any authenticated caller: who the token says they are.
  app.get('/me', { preHandler: authenticate }, async (request) => {
    const { key, issuer, subject, scopes } = /** @type {import('@trustgate/fastify').Principal} */ (
      request.principal
    )
    return { key, issuer, subject, scopes }
  })

  // Needs the orders:read scope.
  app.get('/orders', { preHandler: requireScopes('orders:read') }, async (request) => ({
    caller: request.principal?.key,
    orders: ORDERS,
  }))

  return app
}
