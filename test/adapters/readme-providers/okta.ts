import { okta } from '@trustgate/fastify' // or '@trustgate/express'

export const issuer = okta({
  issuer: 'https://dev-123456.okta.com/oauth2/default', // the authorization server's issuer
  audience: 'api://default',
  clientIds: ['0oa1my2app3'], // every app of the org shares api://default: name yours
})
