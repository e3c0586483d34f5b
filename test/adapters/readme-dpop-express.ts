import express from 'express'
import { jwtAuth, requireAuth, type IssuerConfig } from '@trustgate/express'

// Behind a proxy that serves several public hosts: the origin comes from a header that only the
// proxy sets (it overwrites what a client sent), and never from Host. The path is the request
// line's, as the API receives it.
export function createApp(issuers: IssuerConfig[]) {
  const app = express()
  const hosts = new Set(['api.example.com', 'api.example.eu'])
  app.use(
    jwtAuth({
      issuers,
      dpop: {},
      origin: (req) => {
        const host = req.get('x-public-host') ?? ''
        return hosts.has(host) ? `https://${host}` : 'https://api.example.com'
      },
    }),
  )
  app.get('/me', requireAuth(), (req, res) => {
    res.json({ key: req.principal?.key })
  })
  return app
}
