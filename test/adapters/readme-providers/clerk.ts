import { clerk } from '@trustgate/fastify' // or '@trustgate/express'

export const issuer = clerk({
  issuer: 'https://clerk.example.com', // the instance's Frontend API URL
  authorizedParties: ['https://app.example.com'], // the origins of your frontends
})
