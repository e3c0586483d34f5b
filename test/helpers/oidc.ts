/**
 * End-to-end plumbing: the real OpenID provider of the examples (examples/provider.js) and the
 * example APIs (examples/{fastify,express}/app.js) behind one small request interface, so each
 * end-to-end test runs unchanged against both frameworks. Fastify is driven with `inject()`,
 * Express over a real 127.0.0.1 socket with `fetch`, as the house style says.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { VerifierOptions } from '@trustgate/core'
import { buildApp as buildExpressApp } from '../../examples/express/app.js'
import { buildApp as buildFastifyApp } from '../../examples/fastify/app.js'
import { API_AUDIENCE } from '../../examples/provider.js'
import { captureLogger, type CapturedLogger } from './log.js'

export {
  API_AUDIENCE,
  CLIENTS,
  DPOP_CLIENT,
  createSigningKeys,
  startProvider,
  type SigningKeys,
  type StartedProvider,
} from '../../examples/provider.js'

export type Framework = 'fastify' | 'express'
export const FRAMEWORKS: readonly Framework[] = ['fastify', 'express']

export interface ApiResponse {
  status: number
  /** Lower-case header names. */
  headers: Record<string, string>
  /** The parsed JSON body. */
  body: Record<string, unknown>
  /** The body as sent. */
  text: string
}

export interface Api {
  readonly framework: Framework
  /** The API's log lines (pino at level info). */
  readonly log: CapturedLogger
  /** GET `path`, with `Authorization: Bearer <token>` when a token is given. */
  get(path: string, token?: string): Promise<ApiResponse>
  close(): Promise<void>
}

/** The issuer entry the examples use for a provider: discovery, the API audience, `at+jwt`. */
export function issuerConfig(issuer: string): VerifierOptions['issuers'][number] {
  return { issuer, audience: API_AUDIENCE, discovery: true, typ: 'at+jwt' }
}

/** Starts the example API of `framework` with trustgate options `auth`. */
export async function startApi(framework: Framework, auth: VerifierOptions): Promise<Api> {
  const log = captureLogger('info')
  if (framework === 'fastify') {
    const app = await buildFastifyApp({ auth, logger: log.logger })
    await app.ready()
    return {
      framework,
      log,
      async get(path, token) {
        const response = await app.inject({
          method: 'GET',
          url: path,
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        })
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined)
            headers[name] = Array.isArray(value) ? value.join(', ') : String(value)
        }
        return { status: response.statusCode, headers, body: response.json(), text: response.body }
      },
      close: () => app.close(),
    }
  }
  const app = buildExpressApp({ auth, logger: log.logger })
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => {
      resolve(listening)
    })
  })
  const origin = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`
  return {
    framework,
    log,
    async get(path, token) {
      const response = await fetch(`${origin}${path}`, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      })
      const text = await response.text()
      return {
        status: response.status,
        headers: Object.fromEntries(response.headers),
        body: JSON.parse(text) as Record<string, unknown>,
        text,
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  }
}

/** The token's payload, decoded without verification (to compare with what the API reports). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >
}

/** The token with one payload claim changed and the signature left as it was. */
export function tamper(token: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.')
  const edited = { ...claimsOf(`.${payload ?? ''}.`), ...claims }
  return [header, Buffer.from(JSON.stringify(edited)).toString('base64url'), signature].join('.')
}

/** Resolves after `ms` of real time (for the short cooldowns of the end-to-end tests). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
