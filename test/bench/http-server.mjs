/**
 * One server of the HTTP benchmark, started by http.bench.mjs in its own process (pinned to one
 * CPU). `BENCH_ROW` names the framework and the auth in front of `GET /me`; `BENCH_CONFIG` holds
 * the issuer, audience, JWKS URL and public key. Prints `LISTENING <port>` when ready.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto'
import { createRequire } from 'node:module'
import { silentLogger } from './fixtures.mjs'

const row = process.env.BENCH_ROW
const { issuer, audience, jwksUri, publicKeyPem, token } = JSON.parse(process.env.BENCH_CONFIG)

// The `*+ceiling` rows: what an authentication costing one RS256 crypto.verify per request, and
// nothing else, would leave of the bare framework. The bench token's bytes are split and decoded
// once, here; each request only verifies them again, synchronously, in the cheapest hook.
function ceilingCheck() {
  const dot = token.lastIndexOf('.')
  const data = Buffer.from(token.slice(0, dot), 'latin1')
  const signature = Buffer.from(token.slice(dot + 1), 'base64url')
  const key = createPublicKey(publicKeyPem)
  return () => {
    if (!cryptoVerify('sha256', data, key, signature)) throw new Error('ceiling: bad signature')
  }
}
const trustgateOptions = async (cache) => ({
  issuers: [{ issuer, audience, jwksUri, algorithms: ['RS256'] }],
  ...(cache ? {} : { tokenCache: false }),
  ...(row.endsWith('-revocation') ? { revocation: await revocationOptions() } : {}),
})

// The `*-revocation` rows: revocation on, its mirror holding 10,000 revoked jtis (none of them
// the bench token's), kept in process by the memory store.
async function revocationOptions() {
  const { createMemoryRevocationStore } = await import('@trustgate/core')
  const store = createMemoryRevocationStore()
  const until = Math.floor(Date.now() / 1000) + 3600
  for (let i = 0; i < 10_000; i++) {
    store.add({ issuer, jti: `revoked-${i}`, expiresAt: until, until })
  }
  return { store }
}

async function fastifyApp() {
  const { default: Fastify } = await import('fastify')
  const app = Fastify({ logger: false })
  const reply = async (request) => ({
    sub: request.user?.sub ?? request.principal?.subject ?? null,
  })
  switch (row) {
    case 'fastify':
      app.get('/me', reply)
      break
    case 'fastify+ceiling': {
      const check = ceilingCheck()
      app.addHook('onRequest', (request, _reply, done) => {
        check()
        done()
      })
      app.get('/me', reply)
      break
    }
    case 'fastify+trustgate':
    case 'fastify+trustgate-revocation':
    case 'fastify+trustgate-uncached': {
      const { jwtAuth } = await import('@trustgate/fastify')
      await app.register(jwtAuth, await trustgateOptions(row !== 'fastify+trustgate-uncached'))
      app.get('/me', { preHandler: app.authenticate }, reply)
      break
    }
    case 'fastify+@fastify/jwt': {
      const { default: fastifyJwt } = await import('@fastify/jwt')
      await app.register(fastifyJwt, {
        secret: { public: publicKeyPem },
        verify: { algorithms: ['RS256'], allowedIss: issuer, allowedAud: audience },
      })
      app.get('/me', { preHandler: (request) => request.jwtVerify() }, reply)
      break
    }
    case 'fastify+fastify-jwt-jwks': {
      const { default: fastifyJwtJwks } = await import('fastify-jwt-jwks')
      await app.register(fastifyJwtJwks, { jwksUrl: jwksUri, issuer, audience })
      app.get('/me', { preHandler: app.authenticate }, reply)
      break
    }
    default:
      throw new Error(`unknown row ${row}`)
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  return app.server.address().port
}

async function expressApp() {
  const { default: express } = await import('express')
  const app = express()
  app.disable('x-powered-by')
  const reply = (req, res) => {
    res.json({ sub: req.auth?.payload?.sub ?? req.auth?.sub ?? req.principal?.subject ?? null })
  }
  switch (row) {
    case 'express':
      app.get('/me', reply)
      break
    case 'express+ceiling': {
      const check = ceilingCheck()
      app.use((req, res, next) => {
        check()
        next()
      })
      app.get('/me', reply)
      break
    }
    case 'express+trustgate':
    case 'express+trustgate-revocation':
    case 'express+trustgate-uncached': {
      const { jwtAuth, requireAuth } = await import('@trustgate/express')
      app.use(
        jwtAuth({
          ...(await trustgateOptions(row !== 'express+trustgate-uncached')),
          logger: silentLogger,
        }),
      )
      app.get('/me', requireAuth(), reply)
      break
    }
    case 'express+express-oauth2-jwt-bearer': {
      const { auth } = await import('express-oauth2-jwt-bearer')
      app.use(auth({ issuer, audience, jwksUri, tokenSigningAlg: 'RS256' }))
      app.get('/me', reply)
      break
    }
    case 'express+express-jwt': {
      const require = createRequire(import.meta.url)
      const { expressjwt } = require('express-jwt')
      const jwksRsa = require('jwks-rsa')
      app.use(
        expressjwt({
          secret: jwksRsa.expressJwtSecret({ jwksUri, cache: true, rateLimit: true }),
          algorithms: ['RS256'],
          issuer,
          audience,
        }),
      )
      app.get('/me', reply)
      break
    }
    default:
      throw new Error(`unknown row ${row}`)
  }
  // Rejections answer with their status and challenge, without Express printing each stack.
  app.use((err, req, res, _next) => {
    res
      .status(err.status ?? 500)
      .set(err.headers ?? {})
      .end()
  })
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server.address().port))
  })
}

const port = row.startsWith('fastify') ? await fastifyApp() : await expressApp()
process.stdout.write(`LISTENING ${port}\n`)
// Exit cleanly on SIGINT, so that `node --cpu-prof` writes its profile.
process.on('SIGINT', () => process.exit(0))
