// Types of app.js, for the TypeScript end-to-end tests (the example itself is plain JS).
import type { FastifyInstance } from 'fastify'
import type { FastifyJwtAuthOptions } from '@trustgate/fastify'
import type { Logger } from 'pino'

export declare function buildMetricsApp(options: {
  auth: FastifyJwtAuthOptions
  logger?: Logger | boolean
}): Promise<FastifyInstance>
