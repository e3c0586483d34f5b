import { entraId } from '@trustgate/fastify' // or '@trustgate/express'

export const issuer = entraId({
  tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47', // the directory (tenant) id
  audience: ['6e74172b-be56-4843-9ff4-e66a39bb12e3', 'api://orders'], // client id, App ID URI
})
