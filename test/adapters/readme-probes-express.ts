import express from 'express'
import { jwtAuth, type IssuerConfig } from '@trustgate/express'

export async function createApp(issuers: IssuerConfig[]) {
  const app = express()
  const auth = jwtAuth({ issuers })
  // Liveness from the process alone, never the IdP; readiness from health(): no network
  app.get('/livez', (_req, res) => res.json({ ok: true }))
  app.get('/readyz', (_req, res) => {
    const health = auth.verifier.health()
    res.status(health.ready ? 200 : 503).json(health)
  })
  app.use(auth)
  await auth.verifier.ready({ timeout: 5000 }) // rejects naming the issuers that have no keys
  return app
}
