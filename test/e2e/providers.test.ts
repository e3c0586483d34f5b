/**
 * Issue 10: each provider preset, end to end, table-driven: one block per provider, and in each
 * block the same cases through the core verifier, the Fastify plugin (`inject()`) and the Express
 * middleware (a real 127.0.0.1 socket with `fetch`). The local IdP (test/helpers/providers.ts)
 * serves each provider's discovery document and JWKS with its quirks, and the tokens carry the
 * header and claims the provider's documentation shows. Honest tokens must be accepted with the
 * right `principal.key`, `issuer` and `scopes`; the provider-typical wrong tokens must be refused
 * by the preset alone, with no per-route rule, and with no network request for an untrusted issuer.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuthError, createVerifier, type Principal } from '@trustgate/core'
import { jwtAuth as expressAuth, requireAuth } from '@trustgate/express'
import { jwtAuth as fastifyAuth } from '@trustgate/fastify'
import { expectNoLeak, expectRejection, invalidToken } from '../helpers/auth-error.js'
import { captureLogger, type CapturedLogger } from '../helpers/log.js'
import { startProviders, type ProviderFixture } from '../helpers/providers.js'

const providers = await startProviders()
afterAll(() => providers.close())

type Surface = 'core' | 'fastify' | 'express'
const SURFACES: readonly Surface[] = ['core', 'fastify', 'express']

type Outcome =
  | { accepted: true; principal: Pick<Principal, 'key' | 'issuer' | 'scopes'> }
  | { accepted: false; status: number; description: string; challenge: string; text: string }

interface Client {
  readonly log: CapturedLogger
  call(token: string): Promise<Outcome>
  close(): Promise<void>
}

const picked = (p: Principal) => ({ key: p.key, issuer: p.issuer, scopes: [...p.scopes] })

async function startClient(surface: Surface, fixture: ProviderFixture): Promise<Client> {
  const log = captureLogger('info')
  const options = { issuers: [fixture.issuer], logger: log.logger }
  if (surface === 'core') {
    const verifier = createVerifier(options)
    return {
      log,
      async call(token) {
        try {
          return { accepted: true, principal: picked(await verifier.verify(token)) }
        } catch (error) {
          if (!(error instanceof AuthError)) throw error
          return {
            accepted: false,
            status: error.status,
            description: error.message,
            challenge: error.headers['WWW-Authenticate'],
            text: JSON.stringify(error.toJSON()),
          }
        }
      },
      close: () => Promise.resolve(),
    }
  }
  if (surface === 'fastify') {
    const app = Fastify({ logger: false })
    await app.register(fastifyAuth, options)
    app.get('/me', { preHandler: app.authenticate }, (req) => picked(req.principal as Principal))
    await app.ready()
    return {
      log,
      async call(token) {
        const response = await app.inject({
          method: 'GET',
          url: '/me',
          headers: { authorization: `Bearer ${token}` },
        })
        if (response.statusCode === 200) {
          return { accepted: true, principal: response.json() }
        }
        return {
          accepted: false,
          status: response.statusCode,
          description: response.json<{ error_description: string }>().error_description,
          challenge: String(response.headers['www-authenticate']),
          text: response.body,
        }
      },
      close: () => app.close(),
    }
  }
  const app = express()
  app.use(expressAuth({ ...options, respond: true }))
  app.get('/me', requireAuth(), (req, res) => {
    res.json(picked(req.principal as Principal))
  })
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => {
      resolve(listening)
    })
  })
  const origin = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`
  return {
    log,
    async call(token) {
      const response = await fetch(`${origin}/me`, {
        headers: { authorization: `Bearer ${token}` },
      })
      const text = await response.text()
      if (response.status === 200) {
        return { accepted: true, principal: JSON.parse(text) as Outcome & object }
      }
      return {
        accepted: false,
        status: response.status,
        description: (JSON.parse(text) as { error_description: string }).error_description,
        challenge: response.headers.get('www-authenticate') ?? '',
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
  } as Client
}

/** The fixed description of a reason, as the core words it. */
function description(reason: string): string {
  return new AuthError('invalid_token', reason as never, '').message
}

// Plain loops rather than `each`: the case names are sentences, shown whole in the report.
for (const fixture of providers.fixtures)
  describe(fixture.name, () => {
    for (const surface of SURFACES)
      describe(`through ${surface}`, () => {
        let client: Client
        beforeAll(async () => {
          client = await startClient(surface, fixture)
        })
        afterAll(() => client.close())

        for (const honest of fixture.honest)
          it(`accepts: ${honest.name}`, async () => {
            const outcome = await client.call(honest.token)
            expect(outcome).toEqual({
              accepted: true,
              principal: { key: honest.key, issuer: honest.issuer, scopes: honest.scopes },
            })
          })

        for (const wrong of fixture.wrong)
          it(`refuses: ${wrong.name} (${wrong.reason})`, async () => {
            const hits = providers.idp.hits()
            const outcome = await client.call(wrong.token)
            expect(outcome).toMatchObject({
              accepted: false,
              status: 401,
              description: description(wrong.reason),
            })
            if (!outcome.accepted) {
              expect(outcome.challenge).toContain('error="invalid_token"')
              expect(outcome.text).not.toContain(wrong.token)
            }
            for (const line of client.log.raw) expect(line).not.toContain(wrong.token.split('.')[2])
            // An issuer (or tenant) that is not trusted costs no request to any key endpoint.
            if (wrong.reason === 'untrusted_issuer') expect(providers.idp.hits()).toBe(hits)
          })
      })

    it('core: every refusal carries its exact reason and leaks no token', async () => {
      const log = captureLogger('info')
      const verifier = createVerifier({ issuers: [fixture.issuer], logger: log.logger })
      for (const wrong of fixture.wrong) {
        const error = await expectRejection(
          verifier.verify(wrong.token),
          invalidToken(wrong.reason),
          wrong.token,
          log.raw,
        )
        expectNoLeak(wrong.token, error, log.raw)
      }
      // Each honest twin passes through the same verifier.
      for (const honest of fixture.honest) {
        await expect(verifier.verify(honest.token)).resolves.toMatchObject({ key: honest.key })
      }
    })
  })

describe('Keycloak encryption key', () => {
  it('is skipped without a warning on every fetch', async () => {
    const fixture = providers.fixtures.find((f) => f.name === 'Keycloak') as ProviderFixture
    const log = captureLogger('info')
    const verifier = createVerifier({
      issuers: [fixture.issuer],
      logger: log.logger,
      tokenCache: false,
      jwks: { cacheMaxAge: 0, cooldownDuration: 0 },
    })
    const honest = fixture.honest[0]?.token as string
    for (let i = 0; i < 3; i++) await verifier.verify(honest)
    expect(log.lines.filter((line) => line.level === 40)).toEqual([])
  })
})
