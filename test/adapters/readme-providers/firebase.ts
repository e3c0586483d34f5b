import { firebase } from '@trustgate/fastify' // or '@trustgate/express'

export const issuer = firebase({ projectId: 'my-project' })
