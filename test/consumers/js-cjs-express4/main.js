'use strict'
const express = require('express')
const { jwtAuth, requireAuth } = require('@trustgate/express')
const { AUDIENCE, ISSUER, SECRET, check } = require('./token.cjs')

const app = express()
app.use(jwtAuth({ issuers: [{ issuer: ISSUER, audience: AUDIENCE, secret: SECRET }] }))
app.get('/me', requireAuth(), (req, res) => {
  res.json({ key: req.principal && req.principal.key })
})
const server = app.listen(0, '127.0.0.1', () => {
  check(`http://127.0.0.1:${server.address().port}`)
    .finally(() => server.close())
    .catch((error) => {
      console.error(error)
      process.exitCode = 1
    })
})
