/**
 * The one-command demo: `npm run demo` (or `node examples/demo.js` after a build).
 *
 * In this one process: a real OpenID provider (oidc-provider) that the APIs trust, a second one
 * that they do not, and the Fastify and Express example APIs, all on 127.0.0.1. Tokens are fetched
 * over HTTP with the client-credentials grant; each call that shows what trustgate does is made
 * against both APIs, and a table of request -> status -> principal key or error is printed.
 * Exits 0 when every status is the expected one, 1 otherwise. Everything is closed at the end and
 * nothing keeps the process alive, so it ends by itself, without process.exit().
 */
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pino } from 'pino'
import { buildApp as buildExpressApp } from './express/app.js'
import { buildApp as buildFastifyApp } from './fastify/app.js'
import * as oauth from 'oauth4webapi'
import { API_AUDIENCE, CLIENTS, DPOP_CLIENT, startProvider } from './provider.js'

const startedAt = Date.now()
const require = createRequire(import.meta.url)

/** A pino logger at level warn whose lines are kept, to show what the API logged. */
function captureLogger() {
  /** @type {string[]} */
  const lines = []
  const logger = pino({ level: 'warn' }, { write: (line) => void lines.push(line.trimEnd()) })
  return { logger, lines }
}

/** The token with its payload edited (scope widened), signature left as it was. */
function tamper(token) {
  const [header, payload, signature] = token.split('.')
  const claims = JSON.parse(Buffer.from(String(payload), 'base64url').toString())
  claims.scope = `${String(claims.scope)} orders:read`
  return [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.')
}

// The trusted provider also has a DPoP client, whose access tokens are bound to its key.
const trusted = await startProvider({ clients: [...CLIENTS, DPOP_CLIENT] })
const untrusted = await startProvider()

// DPoP (RFC 9449) is on: bearer tokens still work, DPoP-bound tokens need a proof on every call.
// `origin` is each API's public origin, what proofs' `htu` is checked against (never Host); here
// it is where each one listens, known once it does.
const origins = { fastify: '', express: '' }
const auth = {
  issuers: [{ issuer: trusted.issuer, audience: API_AUDIENCE, discovery: true, typ: 'at+jwt' }],
  dpop: {},
}
const fastifyLog = captureLogger()
const fastifyApp = await buildFastifyApp({
  auth: { ...auth, origin: () => origins.fastify },
  logger: fastifyLog.logger,
})
await fastifyApp.listen({ port: 0, host: '127.0.0.1' })
const expressLog = captureLogger()
const expressServer = await new Promise((resolve) => {
  const server = buildExpressApp({
    auth: { ...auth, origin: () => origins.express },
    logger: expressLog.logger,
  }).listen(0, '127.0.0.1', () => resolve(server))
})
origins.fastify = `http://127.0.0.1:${String(fastifyApp.server.address().port)}`
origins.express = `http://127.0.0.1:${String(expressServer.address().port)}`

const apis = [
  {
    name: 'fastify',
    origin: origins.fastify,
    log: fastifyLog,
  },
  {
    name: 'express',
    origin: origins.express,
    log: expressLog,
  },
]

// Real tokens, from the token endpoints, over HTTP.
const ordersToken = await trusted.token('orders-service') // ES256, orders:read orders:write
const reportsToken = await trusted.token('reporting-job') // RS256, reports:read
const strangerToken = await untrusted.token('orders-service') // same claims, untrusted issuer
const untrustedHitsBefore = untrusted.hits()

const calls = [
  { path: '/health', who: 'no token', token: undefined, expect: 200 },
  { path: '/orders', who: 'no token', token: undefined, expect: 401 },
  { path: '/orders', who: 'orders-service (ES256)', token: ordersToken, expect: 200 },
  { path: '/me', who: 'reporting-job (RS256)', token: reportsToken, expect: 200 },
  { path: '/orders', who: 'reporting-job, no orders:read', token: reportsToken, expect: 403 },
  { path: '/me', who: 'untrusted provider', token: strangerToken, expect: 401 },
  { path: '/me', who: 'tampered (scope edited)', token: tamper(reportsToken), expect: 401 },
]

const rows = []
let failures = 0
for (const api of apis) {
  for (const call of calls) {
    const headers = call.token === undefined ? {} : { authorization: `Bearer ${call.token}` }
    const response = await fetch(`${api.origin}${call.path}`, { headers })
    const body = await response.json()
    const result =
      response.status < 400
        ? `principal ${JSON.stringify(body.key ?? body.caller ?? null)}`
        : `${String(body.error)}: ${String(body.error_description)}`
    const ok = response.status === call.expect
    if (!ok) failures += 1
    rows.push([
      api.name,
      `GET ${call.path}`,
      call.who,
      String(response.status),
      ok ? result : `${result} (expected ${String(call.expect)})`,
    ])
  }
}

// DPoP, with a real client: oauth4webapi gets a DPoP-bound token from the provider (with a proof
// of its own key) and makes a fresh proof for each call.
const insecure = { [oauth.allowInsecureRequests]: true } // http: on 127.0.0.1, for the demo only
const issuerUrl = new URL(trusted.issuer)
const as = await oauth.processDiscoveryResponse(
  issuerUrl,
  await oauth.discoveryRequest(issuerUrl, insecure),
)
const dpopClient = { client_id: DPOP_CLIENT.clientId }
const dpopHandle = oauth.DPoP(dpopClient, await oauth.generateKeyPair('ES256'))
const { access_token: dpopToken } = await oauth.processClientCredentialsResponse(
  as,
  dpopClient,
  await oauth.clientCredentialsGrantRequest(
    as,
    dpopClient,
    oauth.ClientSecretBasic(DPOP_CLIENT.clientSecret),
    { scope: DPOP_CLIENT.scope },
    { DPoP: dpopHandle, ...insecure },
  ),
)

/** Adds a table row for a DPoP call; a refusal is read from the body, as for the calls above. */
async function dpopRow(api, who, response, expected) {
  const body = await response.json()
  const result =
    response.status < 400
      ? `principal ${JSON.stringify(body.caller ?? null)}`
      : `${String(body.error)}: ${String(body.error_description)}`
  const ok = response.status === expected
  if (!ok) failures += 1
  rows.push([
    api.name,
    'GET /orders',
    who,
    String(response.status),
    ok ? result : `${result} (expected ${String(expected)})`,
  ])
}

for (const api of apis) {
  const url = new URL('/orders', api.origin)
  // One call with a proof, made and sent by oauth4webapi; the proof it sent is kept.
  let sent = ''
  const withProof = await oauth
    .protectedResourceRequest(dpopToken, 'GET', url, undefined, undefined, {
      DPoP: dpopHandle,
      ...insecure,
      [oauth.customFetch]: (href, init) => {
        sent = new Headers(init.headers).get('dpop') ?? ''
        return fetch(href, init)
      },
    })
    .catch((error) =>
      error instanceof oauth.WWWAuthenticateChallengeError ? error.response : Promise.reject(error),
    )
  await dpopRow(api, 'dpop-service, DPoP proof', withProof, 200)
  // The same proof again: a replay.
  const replayed = await fetch(url, {
    headers: { authorization: `DPoP ${dpopToken}`, dpop: sent },
  })
  await dpopRow(api, 'dpop-service, proof replayed', replayed, 401)
  // The DPoP-bound token as a plain bearer token: no downgrade.
  const asBearer = await fetch(url, { headers: { authorization: `Bearer ${dpopToken}` } })
  await dpopRow(api, 'dpop-service, sent as Bearer', asBearer, 401)
}

const head = ['api', 'request', 'token', 'status', 'principal key or error']
const widths = [0, 1, 2, 3].map((i) => Math.max(...[head, ...rows].map((row) => row[i].length)))
const line = (row) => row.map((cell, i) => (i < 4 ? cell.padEnd(widths[i] ?? 0) : cell)).join('  ')
console.log(`trusted issuer    ${trusted.issuer}`)
console.log(`untrusted issuer  ${untrusted.issuer}`)
console.log('')
console.log(line(head))
for (const row of rows) console.log(line(row))
console.log('')
for (const api of apis) {
  const warn = api.log.lines.find((l) => l.includes('"untrusted_issuer"'))
  if (warn === undefined) failures += 1
  console.log(`${api.name} logged: ${warn ?? '(no untrusted_issuer line: unexpected)'}`)
}
const untrustedHits = untrusted.hits() - untrustedHitsBefore
if (untrustedHits !== 0) failures += 1
console.log(`requests from the APIs to the untrusted provider: ${String(untrustedHits)}`)

// `trustgate doctor` against the trusted provider, run as an operator runs it: the CLI's own bin.
const doctor = await new Promise((resolve, reject) => {
  const bin = join(dirname(require.resolve('@trustgate/cli/package.json')), 'dist/bin.js')
  execFile(process.execPath, [bin, 'doctor', trusted.issuer], (error, stdout) => {
    if (error !== null && typeof error.code !== 'number') reject(error)
    else resolve({ code: error === null ? 0 : Number(error.code), stdout })
  })
})
if (doctor.code !== 0) failures += 1
console.log('')
console.log(`$ trustgate doctor ${trusted.issuer}`)
console.log(String(doctor.stdout).trimEnd())
console.log('')

await fastifyApp.close()
expressServer.closeAllConnections()
await new Promise((resolve) => expressServer.close(resolve))
await trusted.stop()
await untrusted.stop()

console.log(
  failures === 0
    ? `all ${String(rows.length)} calls answered as expected (${String(Date.now() - startedAt)} ms)`
    : `${String(failures)} unexpected result(s)`,
)
process.exitCode = failures === 0 ? 0 : 1
