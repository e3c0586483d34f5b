/**
 * A small orders API on Express, guarded by @trustgate/express: a public route, a route for any
 * authenticated caller, and a scope-guarded route.
 */
import express from 'express'
import { pino } from 'pino'
import { isAuthError } from '@trustgate/core'
import { jwtAuth, requireAuth, requireScopes } from '@trustgate/express'

const ORDERS = [
  { id: 'o-1001', item: 'espresso beans', quantity: 2 },
  { id: 'o-1002', item: 'milk frother', quantity: 1 },
]

/**
 * Builds the app (it does not listen).
 * @param {object} options
 * @param {import('@trustgate/express').ExpressJwtAuthOptions} options.auth trustgate's options
 * @param {import('pino').Logger} [options.logger] default: pino at level info
 */
export function buildApp({ auth, logger = pino() }) {
  const app = express()
  app.use(jwtAuth({ logger, ...auth }))

  // Public: a caller without a token gets here with principal null.
  app.get('/health', (req, res) => {
    res.json({ ok: true, caller: req.principal?.key ?? null })
  })

  // Any authenticated caller: who the token says they are.
  app.get('/me', requireAuth(), (req, res) => {
    const { key, issuer, subject, scopes } = /** @type {import('@trustgate/express').Principal} */ (
      req.principal
    )
    res.json({ key, issuer, subject, scopes })
  })

  // Needs the orders:read scope.
  app.get('/orders', requireScopes('orders:read'), (req, res) => {
    res.json({ caller: req.principal?.key, orders: ORDERS })
  })

  // trustgate hands failures to next(err) with `status` and `headers`; answer them as JSON
  // (Express's default handler would send the status and header with an HTML page).
  app.use(
    /** @type {import('express').ErrorRequestHandler} */
    (err, req, res, next) => {
      if (!isAuthError(err)) {
        next(err)
        return
      }
      res.status(err.status).set(err.headers).json(err.toJSON())
    },
  )

  return app
}
