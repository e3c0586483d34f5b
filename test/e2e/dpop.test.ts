/**
 * DPoP end to end, for both frameworks: oidc-provider issues DPoP-bound JWT access tokens
 * (`features.dPoP`, client metadata `dpop_bound_access_tokens`) to a client that is oauth4webapi,
 * which also makes every proof sent to the example APIs and follows their nonce challenges. No
 * proof here is minted by our own code; the attack cases reuse or redirect oauth4webapi's proofs.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { VerifierOptions } from '@trustgate/core'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp as buildExpressApp } from '../../examples/express/app.js'
import { buildApp as buildFastifyApp } from '../../examples/fastify/app.js'
import { captureLogger, type CapturedLogger } from '../helpers/log.js'
import {
  CLIENTS,
  DPOP_CLIENT,
  FRAMEWORKS,
  issuerConfig,
  startProvider,
  type Framework,
  type StartedProvider,
} from '../helpers/oidc.js'
import { rawRequest } from '../helpers/raw-http.js'

const SECRET = 'the-nonce-secret-every-instance-shares!'
const insecure = { [oauth.allowInsecureRequests]: true } as const

interface DpopApi {
  readonly origin: string
  readonly log: CapturedLogger
  close(): Promise<void>
}

/** Starts the example API of `framework` on 127.0.0.1, with DPoP options, over real HTTP. */
async function startDpopApi(
  framework: Framework,
  issuer: string,
  dpop: NonNullable<VerifierOptions['dpop']>,
): Promise<DpopApi> {
  const log = captureLogger('info')
  // The origin is the API's public one: here, where it listens. Known only once it listens, so
  // given as a function; never taken from the Host header.
  let origin = ''
  const auth = { issuers: [issuerConfig(issuer)], dpop, origin: () => origin }
  if (framework === 'fastify') {
    const app = await buildFastifyApp({ auth, logger: log.logger })
    await app.listen({ port: 0, host: '127.0.0.1' })
    origin = `http://127.0.0.1:${String((app.server.address() as AddressInfo).port)}`
    return { origin, log, close: () => app.close() }
  }
  const server = await new Promise<Server>((resolve) => {
    const listening = buildExpressApp({ auth, logger: log.logger }).listen(0, '127.0.0.1', () => {
      resolve(listening)
    })
  })
  origin = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`
  return {
    origin,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  }
}

/** The client: oauth4webapi, with its own DPoP key pair. */
interface DpopClient {
  readonly token: string
  readonly handle: oauth.DPoPHandle
  readonly jkt: string
}

let provider: StartedProvider
let as: oauth.AuthorizationServer
const client: oauth.Client = { client_id: DPOP_CLIENT.clientId }

async function dpopClient(): Promise<DpopClient> {
  const handle = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
  const grant = () =>
    oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(DPOP_CLIENT.clientSecret),
      { scope: DPOP_CLIENT.scope },
      { DPoP: handle, ...insecure },
    )
  let response = await grant()
  let result: oauth.TokenEndpointResponse
  try {
    result = await oauth.processClientCredentialsResponse(as, client, response)
  } catch (error) {
    // The provider may ask for a nonce too: the handle kept it, one retry.
    if (!oauth.isDPoPNonceError(error)) throw error
    response = await grant()
    result = await oauth.processClientCredentialsResponse(as, client, response)
  }
  expect(result.token_type).toBe('dpop')
  return { token: result.access_token, handle, jkt: await handle.calculateThumbprint() }
}

/**
 * GET `path` as oauth4webapi does it: a fresh proof, and one retry on `use_dpop_nonce` (its
 * documented pattern). Returns the final response and how many requests were sent.
 */
async function call(api: DpopApi, path: string, dpop: DpopClient) {
  let attempts = 0
  for (;;) {
    attempts += 1
    try {
      const response = await oauth.protectedResourceRequest(
        dpop.token,
        'GET',
        new URL(path, api.origin),
        undefined,
        undefined,
        { DPoP: dpop.handle, ...insecure },
      )
      return { response, attempts }
    } catch (error) {
      if (attempts === 1 && oauth.isDPoPNonceError(error)) continue
      if (error instanceof oauth.WWWAuthenticateChallengeError) {
        return { response: error.response, attempts }
      }
      throw error
    }
  }
}

/** A proof oauth4webapi makes for GET `path`, captured instead of sent. */
async function proofFor(api: DpopApi, path: string, dpop: DpopClient): Promise<string> {
  let proof = ''
  await oauth.protectedResourceRequest(
    dpop.token,
    'GET',
    new URL(path, api.origin),
    undefined,
    undefined,
    {
      DPoP: dpop.handle,
      ...insecure,
      [oauth.customFetch]: (_url, init) => {
        proof = new Headers(init.headers).get('dpop') ?? ''
        return Promise.resolve(new Response('{}', { status: 200 }))
      },
    },
  )
  return proof
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >
}

beforeAll(async () => {
  provider = await startProvider({ clients: [...CLIENTS, DPOP_CLIENT] })
  const issuer = new URL(provider.issuer)
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
})

afterAll(async () => {
  await provider.stop()
})

describe.each(FRAMEWORKS)('DPoP end to end on %s (oidc-provider + oauth4webapi)', (framework) => {
  let api: DpopApi
  let nonceApi: DpopApi
  let dpop: DpopClient

  beforeAll(async () => {
    api = await startDpopApi(framework, provider.issuer, {})
    nonceApi = await startDpopApi(framework, provider.issuer, { nonce: { secret: SECRET } })
    dpop = await dpopClient()
  })

  afterAll(async () => {
    await api.close()
    await nonceApi.close()
  })

  it('accepts the provider’s DPoP-bound token with oauth4webapi’s proofs, cached or not', async () => {
    // The provider bound the token to the client's key: cnf.jkt is its RFC 7638 thumbprint.
    expect(claimsOf(dpop.token).cnf).toEqual({ jkt: dpop.jkt })
    for (let i = 0; i < 3; i++) {
      const { response, attempts } = await call(api, '/orders', dpop)
      expect(response.status).toBe(200)
      expect(attempts).toBe(1)
      expect(((await response.json()) as { caller: string }).caller).toContain(DPOP_CLIENT.clientId)
    }
  })

  it('refuses the same token sent as a plain Bearer token (no downgrade); its DPoP twin passes', async () => {
    const response = await fetch(new URL('/orders', api.origin), {
      headers: { authorization: `Bearer ${dpop.token}` },
    })
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual({
      error: 'invalid_token',
      error_description: 'The token is bound to a DPoP key and must be sent with a DPoP proof',
    })
    // The error on the scheme used, and DPoP offered with its algorithms.
    expect(response.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="api", error="invalid_token", .*, DPoP realm="api", algs="ES256 /,
    )
    expect((await call(api, '/orders', dpop)).response.status).toBe(200)
  })

  it('refuses a replayed oauth4webapi proof; the first use passed', async () => {
    const proof = await proofFor(api, '/orders', dpop)
    const send = () =>
      fetch(new URL('/orders', api.origin), {
        headers: { authorization: `DPoP ${dpop.token}`, dpop: proof },
      })
    expect((await send()).status).toBe(200)
    const replay = await send()
    expect(replay.status).toBe(401)
    expect(await replay.json()).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'The DPoP proof has already been used',
    })
    expect(replay.headers.get('www-authenticate')).toMatch(
      /^DPoP realm="api", error="invalid_dpop_proof", error_description="The DPoP proof has already been used", algs="/,
    )
  })

  it('refuses a proof for /orders on /me, and the same proof then passes on /orders', async () => {
    const proof = await proofFor(api, '/orders', dpop)
    const send = (path: string) =>
      fetch(new URL(path, api.origin), {
        headers: { authorization: `DPoP ${dpop.token}`, dpop: proof },
      })
    const wrong = await send('/me')
    expect(wrong.status).toBe(401)
    expect(((await wrong.json()) as { error_description: string }).error_description).toBe(
      'The DPoP proof is not for this URL',
    )
    expect((await send('/orders')).status).toBe(200)
  })

  it('ignores the Host header: a laundering Host cannot make a proof for /orders pass on /me', async () => {
    const proof = await proofFor(api, '/orders', dpop)
    const host = new URL(api.origin).host
    const headers = [
      ['Authorization', `DPoP ${dpop.token}`],
      ['DPoP', proof],
    ] as const
    // A Host that would put /orders in front of the real path, or the path into a query.
    for (const laundering of [`${host}/orders?`, `${host}/orders#`, `${host}/orders`]) {
      const response = await rawRequest(api.origin, '/me', headers, laundering)
      // The URL is the configured origin and the request line's path: the proof is for another.
      expect(response.status).toBe(401)
      expect(response.body).toContain('The DPoP proof is not for this URL')
    }
    // The honest twin: the same proof on its own URL, with an honest Host.
    expect((await rawRequest(api.origin, '/orders', headers)).status).toBe(200)
  })

  it('refuses two DPoP headers; one of them alone passes', async () => {
    const first = await proofFor(api, '/orders', dpop)
    const second = await proofFor(api, '/orders', dpop)
    const auth = ['Authorization', `DPoP ${dpop.token}`] as const
    const both = await rawRequest(api.origin, '/orders', [auth, ['DPoP', first], ['DPoP', second]])
    expect(both.status).toBe(401)
    expect(both.body).toContain('More than one DPoP header was sent')
    expect((await rawRequest(api.origin, '/orders', [auth, ['DPoP', second]])).status).toBe(200)
  })

  it('asks for a nonce with use_dpop_nonce, and oauth4webapi retries with it', async () => {
    const first = await call(nonceApi, '/orders', dpop)
    expect(first.response.status).toBe(200)
    // One 401 use_dpop_nonce with DPoP-Nonce, then the retry with the nonce.
    expect(first.attempts).toBe(2)
    // The handle keeps the nonce: the next call needs no retry.
    const next = await call(nonceApi, '/orders', dpop)
    expect(next.response.status).toBe(200)
    expect(next.attempts).toBe(1)
  })

  it('writes no token and no proof to its log', async () => {
    const proof = await proofFor(api, '/orders', dpop)
    await fetch(new URL('/orders', api.origin), {
      headers: { authorization: `Bearer ${dpop.token}`, dpop: proof },
    })
    for (const line of [...api.log.raw, ...nonceApi.log.raw]) {
      expect(line.includes(dpop.token)).toBe(false)
      expect(line.includes(proof)).toBe(false)
    }
  })
})
