import express from 'express'
import { jwtAuth, requireAuth, requireScopes, type IssuerConfig } from '@trustgate/express'

// issuers: [{ issuer: 'https://auth.example.com', audience: 'https://api.example.com',
//             jwksUri: 'https://auth.example.com/.well-known/jwks.json' }]
export function createApp(issuers: IssuerConfig[]) {
  const app = express()
  app.use(jwtAuth({ issuers }))

  app.get('/public', (req, res) => {
    res.json({ who: req.principal?.key ?? null })
  })
  app.get('/me', requireAuth(), (req, res) => {
    res.json({ key: req.principal?.key })
  })
  app.get('/orders', requireScopes('orders:read'), (_req, res) => {
    res.json({ orders: [] })
  })
  return app
}
