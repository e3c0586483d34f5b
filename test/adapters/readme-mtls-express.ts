import express from 'express'
import { forwardedCertificate, jwtAuth, requireAuth, type IssuerConfig } from '@trustgate/express'

// Behind nginx, which terminates TLS and sends
//   proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
export function createApp(issuers: IssuerConfig[], nginx: string[]) {
  const app = express()
  const getClientCertificate = forwardedCertificate({
    format: 'escaped-pem', // or 'client-cert' (RFC 9440), 'xfcc' (Envoy)
    trustedProxies: nginx, // e.g. ['10.0.0.7', '10.1.0.0/16']: nobody else's header counts
  })
  app.use(jwtAuth({ issuers, getClientCertificate }))
  app.get('/me', requireAuth(), (req, res) => {
    res.json({ key: req.principal?.key })
  })
  return app
}
