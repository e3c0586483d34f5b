/**
 * Certificate-bound access tokens end to end (RFC 8705), for both frameworks: oidc-provider issues
 * real tokens bound to each client's self-signed certificate, and the APIs run on real HTTPS
 * servers that ask for client certificates. Directly, the certificate is the TLS peer certificate
 * of the connection; behind a TLS-terminating proxy (a real one here, connecting from 127.0.0.2),
 * it is the proxy's header, in each of the three forwarded forms. Every attack has its honest twin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Agent, createServer as createHttpsServer, request as httpsRequest } from 'node:https'
import { createHash, type X509Certificate } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import express from 'express'
import { jwtAuth as fastifyAuth } from '@trustgate/fastify'
import { jwtAuth as expressAuth, requireAuth } from '@trustgate/express'
import {
  forwardedCertificate,
  peerCertificate,
  type ForwardedCertificateFormat,
  type VerifierOptions,
} from '@trustgate/core'
import { createCertificate, type TestCertificate } from '../helpers/certs.js'
import { captureLogger, type CapturedLogger } from '../helpers/log.js'
import { API_AUDIENCE, FRAMEWORKS, type Framework } from '../helpers/oidc.js'
import {
  closeServer,
  send,
  startMtlsProvider,
  type MtlsClient,
  type MtlsProvider,
  type SendOptions,
  type SendResponse,
} from '../helpers/mtls.js'

const PROXY_ADDRESS = '127.0.0.2'
const FORMATS: readonly ForwardedCertificateFormat[] = ['client-cert', 'escaped-pem', 'xfcc']
const HEADERS: Readonly<Record<ForwardedCertificateFormat, string>> = {
  'client-cert': 'client-cert',
  'escaped-pem': 'x-ssl-client-cert',
  xfcc: 'x-forwarded-client-cert',
}

let provider: MtlsProvider
let alice: MtlsClient
let mallory: MtlsClient
/** The proxy's own client certificate, towards the API; registered too, so it can get a token. */
let proxyClient: MtlsClient
let apiCertificate: TestCertificate
/** Certificate-bound tokens from the provider, by client. */
const tokens = new Map<MtlsClient, string>()

beforeAll(async () => {
  alice = { clientId: 'alice-service', certificate: createCertificate('alice') }
  mallory = { clientId: 'mallory-service', certificate: createCertificate('mallory') }
  proxyClient = { clientId: 'edge-proxy', certificate: createCertificate('proxy') }
  apiCertificate = createCertificate('api')
  provider = await startMtlsProvider([alice, mallory, proxyClient])
  for (const client of [alice, mallory, proxyClient]) {
    tokens.set(client, await provider.token(client))
  }
})

afterAll(async () => {
  await provider.stop()
})

function tokenOf(client: MtlsClient): string {
  const token = tokens.get(client)
  if (token === undefined) throw new Error(`no token for ${client.clientId}`)
  return token
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >
}

interface Api {
  readonly origin: string
  readonly log: CapturedLogger
  /** GET /me over https, with `token` as Bearer, presenting `certificate` (or none). */
  get(token: string, certificate?: TestCertificate, extra?: SendOptions): Promise<SendResponse>
  close(): Promise<void>
}

const TLS = {
  requestCert: true,
  // Self-signed client certificates: no CA vouches for them; the token's binding does.
  rejectUnauthorized: false,
}

/** The API of `framework` on https, with trustgate options `auth` (+ adapter options). */
async function startApi(
  framework: Framework,
  auth: Partial<VerifierOptions> & {
    getClientCertificate?: ReturnType<typeof forwardedCertificate>
  } = {},
): Promise<Api> {
  const log = captureLogger('info')
  const options = {
    issuers: [{ issuer: provider.issuer, audience: API_AUDIENCE, discovery: true as const }],
    logger: log.logger,
    ...auth,
  }
  const tls = { key: apiCertificate.key, cert: apiCertificate.cert, ...TLS }
  let server: Server
  if (framework === 'fastify') {
    const app = Fastify({ https: tls })
    await app.register(fastifyAuth, options)
    app.get('/me', { preHandler: app.authenticate }, (request) => ({
      key: request.principal?.key,
      confirmation: request.principal?.confirmation,
    }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    server = app.server
  } else {
    const app = express()
    app.use(expressAuth({ ...options, respond: true }))
    app.get('/me', requireAuth(), (req, res) => {
      res.json({ key: req.principal?.key, confirmation: req.principal?.confirmation })
    })
    server = createHttpsServer(tls, app)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  }
  const origin = `https://127.0.0.1:${String((server.address() as AddressInfo).port)}`
  return {
    origin,
    log,
    get: (token, certificate, extra = {}) =>
      send(`${origin}/me`, {
        ca: apiCertificate.cert,
        certificate,
        ...extra,
        headers: [
          ['authorization', `Bearer ${token}`],
          ...((extra.headers ?? []) as [string, string][]),
        ],
      }),
    close: () => closeServer(server),
  }
}

/** The header value a proxy in `format` writes for `certificate`. */
function forwardedValue(format: ForwardedCertificateFormat, certificate: X509Certificate): string {
  if (format === 'client-cert') return `:${certificate.raw.toString('base64')}:`
  const pem = encodeURIComponent(certificate.toString())
  if (format === 'escaped-pem') return pem
  const hash = createHash('sha256').update(certificate.raw).digest('hex')
  return `By=spiffe://edge-proxy;Hash=${hash};Cert="${pem}";Subject="CN=client"`
}

/**
 * A TLS-terminating proxy in front of `api`: it asks for a client certificate, removes any
 * certificate header the client sent, writes its own in `format`, and connects to the API from
 * 127.0.0.2 with its own client certificate (so that the API's socket has a certificate too: the
 * proxy's, never to be taken for the client's).
 */
async function startProxy(
  format: ForwardedCertificateFormat,
  api: Api,
): Promise<{ origin: string; close(): Promise<void> }> {
  const name = HEADERS[format]
  const server = createHttpsServer(
    { key: provider.serverCertificate.key, cert: provider.serverCertificate.cert, ...TLS },
    (req, res) => {
      // Whatever the client sent under the certificate header is dropped, as a proxy must.
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([key]) => key !== name),
      )
      const peer = peerCertificate(req.socket)
      if (peer !== undefined) headers[name] = forwardedValue(format, peer)
      const target = new URL(api.origin)
      const upstream = httpsRequest(
        {
          host: target.hostname,
          port: target.port,
          path: req.url,
          method: req.method,
          headers,
          agent: false,
          localAddress: PROXY_ADDRESS,
          ca: apiCertificate.cert,
          key: proxyClient.certificate.key,
          cert: proxyClient.certificate.cert,
        },
        (response) => {
          res.writeHead(response.statusCode ?? 502, response.headers)
          response.pipe(res)
        },
      )
      upstream.on('error', () => res.writeHead(502).end())
      req.pipe(upstream)
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `https://127.0.0.1:${String((server.address() as AddressInfo).port)}`
  return { origin, close: () => closeServer(server) }
}

function expectRefused(
  api: Api,
  response: SendResponse,
  token: string,
  expected: { status: number; error: string; description: string },
): void {
  expect(response.status).toBe(expected.status)
  expect(response.json).toEqual({
    error: expected.error,
    error_description: expected.description,
  })
  expect(response.headers['www-authenticate']).toBe(
    `Bearer realm="api", error="${expected.error}", error_description="${expected.description}"`,
  )
  const signature = token.split('.')[2] ?? token
  for (const text of [response.text, JSON.stringify(response.headers), ...api.log.raw]) {
    expect(text.includes(signature)).toBe(false)
  }
}

const MISMATCH = {
  status: 401,
  error: 'invalid_token',
  description: 'The token is bound to another client certificate',
}
const REQUIRED = {
  status: 401,
  error: 'invalid_token',
  description: 'The token is bound to a client certificate and none was presented',
}
const MALFORMED = {
  status: 400,
  error: 'invalid_request',
  description: 'The forwarded client certificate cannot be read',
}

describe('oidc-provider issues certificate-bound access tokens', () => {
  it('binds each token to its client certificate with cnf x5t#S256 (RFC 8705 s3.1)', () => {
    for (const client of [alice, mallory, proxyClient]) {
      expect(claimsOf(tokenOf(client))).toMatchObject({
        iss: provider.issuer,
        aud: API_AUDIENCE,
        sub: client.clientId,
        cnf: { 'x5t#S256': client.certificate.thumbprint },
      })
    }
  })
})

describe.each(FRAMEWORKS)('%s on https, certificate from the TLS connection', (framework) => {
  let api: Api
  beforeAll(async () => {
    api = await startApi(framework)
  })
  afterAll(async () => {
    await api.close()
  })

  it('accepts a token over a connection with its own certificate, again from the cache', async () => {
    const token = tokenOf(alice)
    for (let i = 0; i < 2; i++) {
      const response = await api.get(token, alice.certificate)
      expect(response.status).toBe(200)
      expect(response.json).toEqual({
        key: `${provider.issuer}|${alice.clientId}`,
        confirmation: { 'x5t#S256': alice.certificate.thumbprint },
      })
    }
  })

  it('keeps the binding over resumed TLS sessions, where the peer certificate is remembered', async () => {
    const token = tokenOf(alice)
    const agent = new Agent({ keepAlive: false, maxCachedSessions: 10 })
    try {
      const answers = []
      for (let i = 0; i < 3; i++) answers.push(await api.get(token, alice.certificate, { agent }))
      expect(answers.map((answer) => [answer.status, answer.sessionReused])).toEqual([
        [200, false],
        [200, true],
        [200, true],
      ])
    } finally {
      agent.destroy()
    }
  })

  it('refuses a stolen token over a connection with another certificate', async () => {
    const token = tokenOf(alice)
    expectRefused(api, await api.get(token, mallory.certificate), token, MISMATCH)
    // The thief's own token over the thief's own connection is fine: only the pairing is wrong.
    expect((await api.get(tokenOf(mallory), mallory.certificate)).status).toBe(200)
    expect((await api.get(token, alice.certificate)).status).toBe(200)
  })

  it('refuses a stolen token over a connection without a certificate: no downgrade', async () => {
    const token = tokenOf(alice)
    expectRefused(api, await api.get(token, undefined), token, REQUIRED)
    expect((await api.get(token, alice.certificate)).status).toBe(200)
  })

  it('never reads a certificate header when it reads the socket (no mixing)', async () => {
    const token = tokenOf(alice)
    // Alice's certificate is public: anyone can put it in a header. It counts for nothing here.
    const forged: [string, string][] = FORMATS.map((format) => [
      HEADERS[format],
      forwardedValue(format, alice.certificate.x509),
    ])
    expectRefused(
      api,
      await api.get(token, mallory.certificate, { headers: forged }),
      token,
      MISMATCH,
    )
    expectRefused(api, await api.get(token, undefined, { headers: forged }), token, REQUIRED)
    expect((await api.get(token, alice.certificate, { headers: forged })).status).toBe(200)
  })
})

describe('getClientCertificate', () => {
  it('must be a function, in both adapters', async () => {
    const issuers = [{ issuer: 'https://idp.test', audience: 'api', keys: { keys: [] } }]
    expect(() => expressAuth({ issuers, getClientCertificate: 'x-ssl' as never })).toThrow(
      /getClientCertificate must be a function/,
    )
    const app = Fastify()
    await expect(
      app.register(fastifyAuth, { issuers, getClientCertificate: 'x-ssl' as never }).ready(),
    ).rejects.toThrow(/getClientCertificate must be a function/)
  })
})

describe.each(FRAMEWORKS)('%s behind a TLS-terminating proxy', (framework) => {
  describe.each(FORMATS)('forwarding %s', (format) => {
    let api: Api
    let proxy: { origin: string; close(): Promise<void> }
    beforeAll(async () => {
      api = await startApi(framework, {
        getClientCertificate: forwardedCertificate({ format, trustedProxies: [PROXY_ADDRESS] }),
      })
      proxy = await startProxy(format, api)
    })
    afterAll(async () => {
      await proxy.close()
      await api.close()
    })

    const viaProxy = (token: string, certificate?: TestCertificate): Promise<SendResponse> =>
      send(`${proxy.origin}/me`, {
        ca: provider.serverCertificate.cert,
        certificate,
        headers: { authorization: `Bearer ${token}` },
      })

    it('accepts a token through the proxy from the client holding its certificate', async () => {
      const response = await viaProxy(tokenOf(alice), alice.certificate)
      expect(response.status).toBe(200)
      expect(response.json).toMatchObject({
        confirmation: { 'x5t#S256': alice.certificate.thumbprint },
      })
    })

    it('refuses through the proxy a token bound to another certificate, or with none', async () => {
      const token = tokenOf(alice)
      expectRefused(api, await viaProxy(token, mallory.certificate), token, MISMATCH)
      expectRefused(api, await viaProxy(token, undefined), token, REQUIRED)
    })

    it('ignores a forged header sent straight to the API from an untrusted address', async () => {
      const token = tokenOf(alice)
      const forged: [string, string][] = [
        [HEADERS[format], forwardedValue(format, alice.certificate.x509)],
      ]
      // From 127.0.0.1, not the proxy's 127.0.0.2: with the thief's certificate, or with alice's
      // own (the socket is never read in this mode), the header is ignored.
      for (const certificate of [mallory.certificate, alice.certificate, undefined]) {
        expectRefused(api, await api.get(token, certificate, { headers: forged }), token, REQUIRED)
      }
      // Honest twin: the same header from the proxy's address passes.
      const twin = await api.get(token, proxyClient.certificate, {
        headers: forged,
        localAddress: PROXY_ADDRESS,
      })
      expect(twin.status).toBe(200)
    })

    it("never takes the proxy's own socket certificate for the client's", async () => {
      // The proxy connects with its own certificate; a client without one sends the token bound
      // to it. The socket's certificate would match, but this API reads the header alone.
      const token = tokenOf(proxyClient)
      expectRefused(api, await viaProxy(token, undefined), token, REQUIRED)
      expect((await viaProxy(token, proxyClient.certificate)).status).toBe(200)
    })

    it('answers 400 for a malformed or repeated header from the proxy, never 500', async () => {
      const token = tokenOf(alice)
      const good = forwardedValue(format, alice.certificate.x509)
      const fromProxy = (headers: [string, string][]): Promise<SendResponse> =>
        api.get(token, proxyClient.certificate, { headers, localAddress: PROXY_ADDRESS })
      const bad = [
        ':not base64!:',
        '%E0%A4%A',
        `Cert="${encodeURIComponent('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')}`,
        good.slice(0, good.length / 2),
      ]
      for (const value of bad) {
        expectRefused(api, await fromProxy([[HEADERS[format], value]]), token, MALFORMED)
      }
      expectRefused(
        api,
        await fromProxy([
          [HEADERS[format], good],
          [HEADERS[format], forwardedValue(format, mallory.certificate.x509)],
        ]),
        token,
        MALFORMED,
      )
      expect((await fromProxy([[HEADERS[format], good]])).status).toBe(200)
    })
  })
})
