import { auth0 } from '@trustgate/fastify' // or '@trustgate/express'

export const issuer = auth0({
  domain: 'my-tenant.us.auth0.com', // the tenant or custom domain: no https://, no slash
  audience: 'https://api.example.com/health', // the API's Identifier
  clientIds: ['my_client_id'], // optional: only these applications may call
})
