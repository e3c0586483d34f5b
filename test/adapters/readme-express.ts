import express, { type ErrorRequestHandler } from 'express'
import {
  isAuthError,
  jwtAuth,
  requireAuth,
  requireScopes,
  type IssuerConfig,
} from '@trustgate/express'

// issuers: [{ issuer: 'https://auth.example.com', audience: 'https://api.example.com',
//             jwksUri: 'https://auth.example.com/.well-known/jwks.json' }]
export function createApp(issuers: IssuerConfig[]) {
  const app = express()
  app.use(jwtAuth({ issuers })) // or jwtAuth({ issuers, respond: true }): trustgate answers itself

  app.get('/public', (req, res) => res.json({ who: req.principal?.key ?? null }))
  app.get('/me', requireAuth(), (req, res) => res.json({ key: req.principal?.key }))
  app.get('/orders', requireScopes('orders:read'), (_req, res) => res.json({ orders: [] }))
  // Failures reach next(err): answer as JSON (Express's own handler sends status, header, HTML)
  app.use(((err, _req, res, next) => {
    if (!isAuthError(err)) return next(err)
    res.status(err.status).set(err.headers).json(err.toJSON())
  }) satisfies ErrorRequestHandler)
  return app
}
