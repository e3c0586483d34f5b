/**
 * Runs one token through the three ways trustgate meets a request: the core verifier, the Fastify
 * plugin (`app.inject`) and the Express middleware (a real listen on 127.0.0.1 and `fetch`), and
 * reports what each answered, so an attack test can prove all three refuse it the same way and its
 * honest twin passes all three.
 */
import { createVerifier, isAuthError, type Verifier, type VerifierOptions } from '@trustgate/core'
import { jwtAuth as expressJwtAuth, requireAuth } from '@trustgate/express'
import { jwtAuth as fastifyJwtAuth } from '@trustgate/fastify'
import express, { type NextFunction, type Request, type Response } from 'express'
import Fastify, { type FastifyInstance } from 'fastify'
import type { CryptoKey } from 'jose'
import { constants, createHmac, KeyObject, sign as cryptoSign } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'vitest'

/** What one path answered. `code` is `ok` when a principal was resolved. */
export interface Outcome {
  readonly code: string
  /** The core's reason (the core path only: HTTP carries the description, not the reason). */
  readonly reason?: string
  readonly status: number
  /** The `WWW-Authenticate` header, or '' */
  readonly challenge: string
  /** The JSON body (HTTP), or the error's `toJSON()` (core), or `{ key }` on success. */
  readonly body: unknown
  /** `principal.key` on success. */
  readonly key?: string
}

export interface Outcomes {
  readonly core: Outcome
  readonly fastify: Outcome
  readonly express: Outcome
}

export interface Harness {
  readonly core: Verifier
  readonly fastify: FastifyInstance
  /** `http://127.0.0.1:<port>` of the Express app. */
  readonly expressOrigin: string
  /** Runs `token` through the three paths. */
  run(token: string): Promise<Outcomes>
  /** Sends `Authorization: <value>` to the Fastify app. */
  injectAuthorization(value: string): Promise<Outcome>
  close(): Promise<void>
}

async function coreOutcome(verifier: Verifier, token: string): Promise<Outcome> {
  try {
    const principal = await verifier.verify(token)
    return {
      code: 'ok',
      status: 200,
      challenge: '',
      body: { key: principal.key },
      key: principal.key,
    }
  } catch (error) {
    // Anything but an AuthError is a bug: let it fail the test as it is.
    if (!isAuthError(error)) throw error
    return {
      code: error.code,
      reason: error.reason,
      status: error.status,
      challenge: error.headers['WWW-Authenticate'],
      body: error.toJSON(),
    }
  }
}

function httpOutcome(status: number, challenge: string | undefined, body: unknown): Outcome {
  const parsed = (typeof body === 'object' && body !== null ? body : {}) as {
    error?: string
    key?: string
  }
  if (status === 200) {
    return {
      code: 'ok',
      status,
      challenge: challenge ?? '',
      body,
      ...(parsed.key === undefined ? {} : { key: parsed.key }),
    }
  }
  return {
    code: parsed.error ?? `http_${String(status)}`,
    status,
    challenge: challenge ?? '',
    body,
  }
}

/** Builds the core verifier, a Fastify app and a listening Express app with the same options. */
export async function createHarness(options: VerifierOptions): Promise<Harness> {
  const core = createVerifier(options)

  const fastify = Fastify({ logger: false })
  await fastify.register(fastifyJwtAuth, options)
  fastify.get('/me', { preHandler: fastify.authenticate }, async (request) => ({
    key: request.principal?.key,
  }))
  await fastify.ready()

  const app = express()
  app.use(expressJwtAuth(options))
  app.get('/me', requireAuth(), (req, res) => {
    res.json({ key: req.principal?.key })
  })
  // What an app's error handler does with an AuthError: its status, headers and body. Any other
  // error is a 500, which every test treats as a failure.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (isAuthError(error)) res.status(error.status).set(error.headers).json(error.toJSON())
    else res.status(500).json({ error: 'internal' })
  })
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  const { port } = server.address() as AddressInfo
  const expressOrigin = `http://127.0.0.1:${String(port)}`

  async function injectAuthorization(value: string): Promise<Outcome> {
    const response = await fastify.inject({
      method: 'GET',
      url: '/me',
      headers: { authorization: value },
    })
    const challenge = response.headers['www-authenticate']
    return httpOutcome(
      response.statusCode,
      typeof challenge === 'string' ? challenge : undefined,
      response.json(),
    )
  }

  async function viaExpress(token: string): Promise<Outcome> {
    const response = await fetch(`${expressOrigin}/me`, {
      headers: { authorization: `Bearer ${token}` },
    })
    // Node itself answers some requests (431 for headers over 16 KiB) with no JSON body.
    const text = await response.text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      // keep the text
    }
    return httpOutcome(response.status, response.headers.get('www-authenticate') ?? undefined, body)
  }

  return {
    core,
    fastify,
    expressOrigin,
    async run(token) {
      const [c, f, e] = await Promise.all([
        coreOutcome(core, token),
        injectAuthorization(`Bearer ${token}`),
        viaExpress(token),
      ])
      return { core: c, fastify: f, express: e }
    },
    injectAuthorization,
    async close() {
      await fastify.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * Asserts that the three paths refused `token` alike: the core with `code`/`reason`/`status`, both
 * adapters with the same status, challenge and JSON body; and that the token appears in none of
 * those nor in `logLines`.
 */
export function expectRefused(
  outcomes: Outcomes,
  expected: { code?: string; reason: string; status?: number },
  token: string,
  logLines: readonly string[] = [],
): void {
  const code = expected.code ?? 'invalid_token'
  const status =
    expected.status ?? (code === 'jwks_unavailable' ? 503 : code === 'invalid_request' ? 400 : 401)
  const { core } = outcomes
  expect({ code: core.code, reason: core.reason, status: core.status }).toEqual({
    code,
    reason: expected.reason,
    status,
  })
  const body = core.body as { error: string; error_description: string }
  expect(body.error).toBe(code)
  expect(core.challenge).toBe(
    `Bearer realm="api", error="${code}", error_description="${body.error_description}"`,
  )
  for (const via of [outcomes.fastify, outcomes.express]) {
    expect({ status: via.status, challenge: via.challenge, body: via.body }).toEqual({
      status,
      challenge: core.challenge,
      body,
    })
  }
  expectNoTrace(token, outcomes, logLines)
}

/** Asserts that the three paths resolved `token` to the principal `key`. */
export function expectAccepted(outcomes: Outcomes, key: string): void {
  for (const via of [outcomes.core, outcomes.fastify, outcomes.express]) {
    expect({ code: via.code, status: via.status, key: via.key }).toEqual({
      code: 'ok',
      status: 200,
      key,
    })
  }
}

/** Asserts that neither the token nor its signature part appears in any answer or log line. */
export function expectNoTrace(
  token: string,
  outcomes: Outcomes,
  logLines: readonly string[] = [],
): void {
  const secrets = [token, token.split('.')[2] ?? ''].filter((s) => s.length >= 16)
  const visible = [
    ...[outcomes.core, outcomes.fastify, outcomes.express].flatMap((o) => [
      o.challenge,
      JSON.stringify(o.body),
    ]),
    ...logLines,
  ]
  for (const secret of secrets) {
    for (const text of visible) expect(text.includes(secret)).toBe(false)
  }
}

/** A key as the three paths name it: `<iss>|<sub>` with `\` and `|` escaped. */
export function keyOf(iss: string, sub: string): string {
  const escape = (part: string): string => part.replace(/[\\|]/g, '\\$&')
  return `${escape(iss)}|${escape(sub)}`
}

/**
 * Signs hand-written header and payload JSON text as they are, with Node's crypto: for tokens
 * jose would refuse to build (duplicate members, `1e400`, an `alg` the key was not made for).
 */
export function signRaw(
  privateKey: CryptoKey | KeyObject | Uint8Array,
  alg: string,
  headerJson: string,
  payloadJson: string,
): string {
  const input = `${Buffer.from(headerJson).toString('base64url')}.${Buffer.from(payloadJson).toString('base64url')}`
  const hash = `sha${alg.slice(2)}`
  if (privateKey instanceof Uint8Array) {
    // An HMAC secret of any length, the empty one included (jose refuses that one).
    const mac = createHmac(hash, Buffer.from(privateKey)).update(input).digest()
    return `${input}.${mac.toString('base64url')}`
  }
  const key = privateKey instanceof KeyObject ? privateKey : KeyObject.from(privateKey)
  let signature: Buffer
  if (alg === 'EdDSA') signature = cryptoSign(null, Buffer.from(input), key)
  else if (alg.startsWith('ES'))
    signature = cryptoSign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
  else if (alg.startsWith('PS')) {
    signature = cryptoSign(hash, Buffer.from(input), {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    })
  } else if (alg.startsWith('HS')) signature = createHmac(hash, key).update(input).digest()
  else signature = cryptoSign(hash, Buffer.from(input), key)
  return `${input}.${signature.toString('base64url')}`
}
