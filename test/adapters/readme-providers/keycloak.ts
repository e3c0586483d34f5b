import { keycloak } from '@trustgate/fastify' // or '@trustgate/express'

export const issuer = keycloak({
  url: 'https://sso.example.test', // before Keycloak 17: 'https://sso.example.test/auth'
  realm: 'acme',
  audience: 'orders-api', // add it with an audience mapper (the default aud is 'account')
  clientIds: ['web-app'], // optional: the azp of the clients allowed
})
