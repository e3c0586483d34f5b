import { entraId } from '@trustgate/fastify' // or '@trustgate/express'

// The tenants that signed up, e.g. loaded from your database and kept up to date.
export const customers = new Set(['72f988bf-86f1-41af-91ab-2d7cd011db47'])

export const issuer = entraId({
  tenant: 'common', // or 'organizations'
  audience: '6e74172b-be56-4843-9ff4-e66a39bb12e3',
  tenants: (tid) => customers.has(tid), // asked for every token: a removed tenant stops at once
})
