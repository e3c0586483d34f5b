import { google } from '@trustgate/fastify' // or '@trustgate/express'

export const issuer = google({
  audience: '1234987819200-okv1example.apps.googleusercontent.com', // your OAuth client id
  hostedDomain: 'example.com', // optional: only this Google Workspace domain
})
