/**
 * A real OpenID provider (panva/oidc-provider v9) on 127.0.0.1, as the issuer of the examples, the
 * demo and the end-to-end tests. Machine clients get access tokens by the client-credentials grant;
 * resource indicators (RFC 8707) make those tokens JWTs (RFC 9068: `typ: at+jwt`, `aud`, `scope`,
 * `sub` = the client id), signed with an RS256 or an ES256 key depending on the client.
 *
 * Nothing here keeps the process alive once `stop()` has run: oidc-provider's in-memory adapter
 * keeps no timer, and `stop()` closes every open connection.
 *
 * oidc-provider prints two warnings on stderr: it prefers Node 22 (it runs on Node 20, which
 * trustgate supports), and its in-memory adapter is for development. Both are expected here.
 */
import { createServer } from 'node:http'
import { exportJWK, generateKeyPair } from 'jose'
import Provider from 'oidc-provider'

/** The resource indicator and `aud` of the example API (both frameworks serve the same API). */
export const API_AUDIENCE = 'https://api.example.test'

/** The scopes the example API knows. */
export const API_SCOPES = ['orders:read', 'orders:write', 'reports:read']

/**
 * The machine clients. `scope` is what the provider lets each one have; `alg` is how its tokens
 * are signed, so that both key types are exercised.
 */
export const CLIENTS = [
  {
    clientId: 'orders-service',
    clientSecret: 'orders-service-secret-for-the-demo-only',
    scope: 'orders:read orders:write',
    alg: 'ES256',
  },
  {
    clientId: 'reporting-job',
    clientSecret: 'reporting-job-secret-for-the-demo-only',
    scope: 'reports:read',
    alg: 'RS256',
  },
]

/**
 * A client whose access tokens are DPoP-bound (RFC 9449): it must send a DPoP proof to the token
 * endpoint, and its JWT access tokens carry `cnf.jkt`, the thumbprint of its proof key. Not in
 * `CLIENTS`: pass it in `clients` where DPoP is wanted (the demo, the DPoP end-to-end tests).
 */
export const DPOP_CLIENT = {
  clientId: 'dpop-service',
  clientSecret: 'dpop-service-secret-for-the-demo-only',
  scope: 'orders:read',
  alg: 'ES256',
  dpopBound: true,
}

let generation = 0

/**
 * A fresh private signing key set: one RS256 (2048-bit) and one ES256 key, with distinct `kid`s.
 * @param {string} [label] goes into the `kid`s, to tell key sets apart in logs.
 * @returns {Promise<{ keys: import('jose').JWK[] }>}
 */
export async function createSigningKeys(label = 'key') {
  generation += 1
  const keys = []
  for (const alg of ['RS256', 'ES256']) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 })
    const jwk = await exportJWK(privateKey)
    keys.push({
      ...jwk,
      kid: `${label}-${alg.toLowerCase()}-${String(generation)}`,
      alg,
      use: 'sig',
    })
  }
  return { keys }
}

/**
 * Starts a provider on 127.0.0.1.
 *
 * @param {object} [options]
 * @param {number} [options.port] listen on this port (0, the default, picks a free one); a restart
 *   passes the old port so that the issuer stays the same string
 * @param {{ keys: import('jose').JWK[] }} [options.jwks] private signing keys (default: new ones);
 *   the first key of each algorithm signs
 * @param {number} [options.accessTokenTTL] seconds an access token lives (default 300)
 * @param {typeof CLIENTS} [options.clients]
 * @param {string} [options.audience] the resource indicator and `aud` of issued tokens
 */
export async function startProvider(options = {}) {
  const { port = 0, accessTokenTTL = 300, clients = CLIENTS, audience = API_AUDIENCE } = options
  const jwks = options.jwks ?? (await createSigningKeys())

  // The issuer contains the port, so the port is taken before the provider exists.
  /** @type {import('node:http').RequestListener | undefined} */
  let handle
  const hits = new Map()
  const sockets = new Set()
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    hits.set(path, (hits.get(path) ?? 0) + 1)
    // One request per connection: a provider restarted on the same port (key rotation, outage)
    // must not leave clients holding pooled connections to the instance that was stopped.
    res.shouldKeepAlive = false
    if (handle === undefined) res.writeHead(503).end()
    else handle(req, res)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve(undefined)
    })
  })
  const address = /** @type {import('node:net').AddressInfo} */ (server.address())
  const issuer = `http://127.0.0.1:${String(address.port)}`

  const byId = new Map(clients.map((client) => [client.clientId, client]))
  const provider = new Provider(issuer, {
    jwks,
    clients: clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      // RFC 9449 s5.2: the provider refuses this client's token requests without a DPoP proof.
      ...('dpopBound' in client && client.dpopBound === true
        ? { dpop_bound_access_tokens: true }
        : {}),
    })),
    features: {
      // No login pages: machine clients only.
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // DPoP-bound access tokens (RFC 9449) for clients with dpop_bound_access_tokens.
      dPoP: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // A token request without `resource` is for the example API.
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator, client) => {
          if (resourceIndicator !== audience) throw new Provider.errors.InvalidTarget()
          const known = byId.get(client.clientId)
          return {
            scope: known?.scope ?? '',
            audience,
            accessTokenTTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: known?.alg ?? 'RS256' } },
          }
        },
      },
    },
    ttl: { ClientCredentials: accessTokenTTL },
  })
  // Plain http: on loopback is fine for oidc-provider; `proxy` stays off.
  handle = provider.callback()

  return {
    issuer,
    port: address.port,
    jwks,
    provider,
    server,
    /** Requests received on `path` so far, or on every path. */
    hits: (path) =>
      path === undefined ? [...hits.values()].reduce((a, b) => a + b, 0) : (hits.get(path) ?? 0),
    /**
     * Gets an access token over HTTP, at the token endpoint, as the client would.
     * @param {string} clientId one of the clients
     * @param {{ scope?: string, resource?: string }} [request]
     * @returns {Promise<string>}
     */
    async token(clientId, request = {}) {
      const client = byId.get(clientId)
      if (client === undefined) throw new Error(`no client ${clientId}`)
      const body = new URLSearchParams({ grant_type: 'client_credentials' })
      body.set('scope', request.scope ?? client.scope)
      if (request.resource !== undefined) body.set('resource', request.resource)
      const credentials = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString(
        'base64',
      )
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${credentials}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body,
      })
      const json = /** @type {Record<string, unknown>} */ (await response.json())
      if (response.status !== 200 || typeof json.access_token !== 'string') {
        throw new Error(
          `token endpoint answered ${String(response.status)}: ${JSON.stringify(json)}`,
        )
      }
      return json.access_token
    },
    /** Closes the server and every open connection. */
    stop: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve(undefined))
      }),
  }
}
