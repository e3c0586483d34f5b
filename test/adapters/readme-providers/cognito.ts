import { cognito } from '@trustgate/fastify' // or '@trustgate/express'

export const issuer = cognito({
  region: 'eu-west-1',
  userPoolId: 'eu-west-1_AbCdEf123',
  clientIds: ['1example23456789'], // the app clients allowed
  tokenUse: 'access', // 'id' to accept ID tokens instead
})
