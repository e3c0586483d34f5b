// Types of app.js, for the TypeScript end-to-end tests (the example itself is plain JS).
import type { Express } from 'express'
import type { ExpressJwtAuthOptions } from '@trustgate/express'
import type { Logger } from 'pino'

export declare function buildApp(options: { auth: ExpressJwtAuthOptions; logger?: Logger }): Express
