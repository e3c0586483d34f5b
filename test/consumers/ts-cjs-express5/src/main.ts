import express from 'express'
import type { AddressInfo } from 'node:net'
import { jwtAuth, requireAuth } from '@trustgate/express'
import { AUDIENCE, ISSUER, SECRET, check } from '../token.cjs'

const app = express()
app.use(jwtAuth({ issuers: [{ issuer: ISSUER, audience: AUDIENCE, secret: SECRET }] }))
app.get('/me', requireAuth(), (req, res) => {
  const key: string | undefined = req.principal?.key
  res.json({ key })
})
const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  check(`http://127.0.0.1:${String(port)}`)
    .finally(() => server.close())
    .catch((error: unknown) => {
      console.error(error)
      process.exitCode = 1
    })
})
