/**
 * The mTLS half of the end-to-end tests: panva's oidc-provider issuing real certificate-bound JWT
 * access tokens (RFC 8705 s3, `features.mTLS.certificateBoundAccessTokens`) to clients that
 * authenticate with their self-signed certificate (`self_signed_tls_client_auth`, RFC 8705 s2.2),
 * and a small HTTPS client that presents a chosen certificate, or none.
 *
 * The provider listens twice with one callback: on plain http (the issuer, its discovery document
 * and JWKS, as trustgate fetches them) and on https with `requestCert` (the token endpoint the
 * clients call, where oidc-provider's `getCertificate` reads the TLS peer certificate).
 */
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import {
  createServer as createHttpsServer,
  request as httpsRequest,
  type Agent as HttpsAgent,
} from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { TLSSocket } from 'node:tls'
import Provider from 'oidc-provider'
import { API_AUDIENCE, createSigningKeys } from '../../examples/provider.js'
import { createCertificate, type TestCertificate } from './certs.js'

/** A client of the provider, identified by its certificate alone. */
export interface MtlsClient {
  readonly clientId: string
  readonly certificate: TestCertificate
}

export interface MtlsProvider {
  /** `http://127.0.0.1:<port>`: discovery and JWKS are served here. */
  readonly issuer: string
  /** `https://127.0.0.1:<port>`: the token endpoint, over mutual TLS. */
  readonly mtlsOrigin: string
  /** The provider's TLS server certificate, to trust as `ca`. */
  readonly serverCertificate: TestCertificate
  /** A certificate-bound access token for `client`, by the client-credentials grant over mTLS. */
  token(client: MtlsClient, certificate?: TestCertificate): Promise<string>
  stop(): Promise<void>
}

function listen(server: Server, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

/** Closes a server and every connection still open on it. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => {
      resolve()
    })
  })
}

/** Starts oidc-provider with mTLS for `clients`, which get tokens bound to their certificate. */
export async function startMtlsProvider(clients: readonly MtlsClient[]): Promise<MtlsProvider> {
  const serverCertificate = createCertificate('provider')
  // The issuer contains the port, so the servers listen before the provider exists.
  const ready: { handle?: (req: IncomingMessage, res: ServerResponse) => void } = {}
  const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    if (ready.handle === undefined) res.writeHead(503).end()
    else ready.handle(req, res)
  }
  const http = createHttpServer(dispatch)
  const https = createHttpsServer(
    {
      key: serverCertificate.key,
      cert: serverCertificate.cert,
      // Ask for a client certificate and let the provider judge it: with self-signed client
      // authentication no CA vouches for it, the registered certificate does (RFC 8705 s2.2).
      requestCert: true,
      rejectUnauthorized: false,
    },
    dispatch,
  )
  const issuer = `http://127.0.0.1:${String(await listen(http))}`
  const mtlsOrigin = `https://127.0.0.1:${String(await listen(https))}`

  const provider = new Provider(issuer, {
    jwks: await createSigningKeys('mtls'),
    clients: clients.map(({ clientId, certificate }) => ({
      client_id: clientId,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      tls_client_certificate_bound_access_tokens: true,
      // The registered certificate: its `x5c` is what self-signed client authentication matches.
      jwks: {
        keys: [
          {
            ...certificate.x509.publicKey.export({ format: 'jwk' }),
            x5c: [certificate.der.toString('base64')],
          },
        ],
      },
    })),
    clientAuthMethods: ['self_signed_tls_client_auth'],
    ttl: { ClientCredentials: 300 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        selfSignedTlsClientAuth: true,
        // The TLS peer certificate of this request's own connection, and nothing from a header.
        getCertificate: (ctx: { socket: Socket }) =>
          (ctx.socket as Partial<TLSSocket>).getPeerX509Certificate?.(),
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API_AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'orders:read',
          audience: API_AUDIENCE,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
  })
  ready.handle = provider.callback()

  return {
    issuer,
    mtlsOrigin,
    serverCertificate,
    async token(client, certificate = client.certificate) {
      const body = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client.clientId,
        scope: 'orders:read',
      }).toString()
      const response = await send(`${mtlsOrigin}/token`, {
        method: 'POST',
        ca: serverCertificate.cert,
        certificate,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      })
      const json = JSON.parse(response.text) as Record<string, unknown>
      if (response.status !== 200 || typeof json.access_token !== 'string') {
        throw new Error(`token endpoint answered ${String(response.status)}: ${response.text}`)
      }
      return json.access_token
    },
    stop: async () => {
      await closeServer(https)
      await closeServer(http)
    },
  }
}

export interface SendOptions {
  method?: string
  /** The client certificate to present, or none. */
  certificate?: TestCertificate | undefined
  /** The server certificate to trust (https only). */
  ca?: string
  /** Header lines, in order; a repeated name is sent as several lines. */
  headers?: OutgoingHttpHeaders | [string, string][]
  body?: string
  /** The local address to connect from (a proxy on 127.0.0.2, say). */
  localAddress?: string
  /** An agent to use instead of a new connection without TLS session reuse. */
  agent?: HttpsAgent
}

export interface SendResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  /** The parsed JSON body, or `undefined`. */
  json: Record<string, unknown> | undefined
  /** Whether the TLS session was resumed rather than negotiated anew. */
  sessionReused: boolean
}

/**
 * One request on a new connection (no agent unless given, so no pooled connection nor TLS session
 * carries a certificate over from another request), over https with `certificate` when given.
 */
export function send(url: string, options: SendOptions = {}): Promise<SendResponse> {
  const target = new URL(url)
  const { certificate, ca, body, localAddress } = options
  let headers = options.headers
  if (Array.isArray(headers)) {
    // A name given twice becomes an array: Node writes one header line per element.
    const lines: Record<string, string[]> = {}
    for (const [name, value] of headers) (lines[name.toLowerCase()] ??= []).push(value)
    headers = lines
  }
  return new Promise((resolve, reject) => {
    const common = {
      method: options.method ?? 'GET',
      host: target.hostname,
      port: target.port,
      path: `${target.pathname}${target.search}`,
      agent: options.agent ?? (false as const),
      ...(headers === undefined ? {} : { headers }),
      ...(localAddress === undefined ? {} : { localAddress }),
    }
    const req =
      target.protocol === 'https:'
        ? httpsRequest({
            ...common,
            ...(ca === undefined ? {} : { ca }),
            ...(certificate === undefined ? {} : { key: certificate.key, cert: certificate.cert }),
          })
        : httpRequest(common)
    req.on('error', reject)
    req.on('response', (res) => {
      const { socket } = res
      const sessionReused = socket instanceof TLSSocket && socket.isSessionReused()
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        let json: Record<string, unknown> | undefined
        try {
          json = JSON.parse(text) as Record<string, unknown>
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, sessionReused })
      })
    })
    req.end(body)
  })
}
