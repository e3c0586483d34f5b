/**
 * Issue 9, item 9, end to end over real TLS: an `https:` issuer's discovery document names an
 * `http:` service on the API's own loopback as its `jwks_uri`. On main the verifier fetched it
 * (server-side request forgery toward the API host; this test fails there: the loopback service
 * gets a request). Now the fetch fails, the loopback service sees nothing, and the honest twin,
 * a document naming the issuer's own `https:` JWKS, verifies.
 *
 * Node 20's fetch trusts a test CA only through NODE_EXTRA_CA_CERTS, read at start-up, so the
 * verifier runs in a child process; the issuer (HTTPS) and the loopback service (HTTP) run here.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpsServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createCertificate } from '../helpers/certs.js'
import { createKey, jwks, sign, type TestKey } from '../helpers/keys.js'
import { startServer, type TestServer } from '../helpers/server.js'

let key: TestKey
let internal: TestServer
let issuerServer: Server
let issuer: string
let metadata: Record<string, unknown> = {}
let dir: string

beforeAll(async () => {
  key = await createKey('ES256')
  // A service on the API's loopback that must never hear from the verifier.
  internal = await startServer()
  internal.route('/admin/jwks', { kind: 'json', body: jwks(key) })
  const certificate = createCertificate('issuer')
  dir = mkdtempSync(join(tmpdir(), 'trustgate-ssrf-'))
  writeFileSync(join(dir, 'ca.pem'), certificate.cert)
  issuerServer = createHttpsServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
    const body =
      req.url === '/.well-known/openid-configuration'
        ? metadata
        : req.url === '/jwks'
          ? jwks(key)
          : undefined
    if (body === undefined) return void res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  })
  await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve))
  issuer = `https://127.0.0.1:${String((issuerServer.address() as AddressInfo).port)}`
})

afterAll(async () => {
  await internal.close()
  await new Promise((resolve) => issuerServer.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})

/** Verifies `token` in a child that trusts the test CA; returns the outcome and the log lines. */
async function verifyInChild(token: string): Promise<{ outcome: string; log: string }> {
  const script = `
    import { createVerifier } from '@trustgate/core'
    const lines = []
    const logger = { info: (o) => lines.push(o), warn: (o) => lines.push(o), error: (o) => lines.push(o) }
    const verifier = createVerifier({
      logger,
      issuers: [{ issuer: process.env.SSRF_ISSUER, audience: 'api', discovery: true }],
    })
    const outcome = await verifier.verify(process.env.SSRF_TOKEN).then(
      (principal) => 'ok ' + principal.subject,
      (error) => error.code + ' ' + error.reason,
    )
    process.stdout.write(JSON.stringify({ outcome, log: JSON.stringify(lines) }))
  `
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', script],
    {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
        SSRF_ISSUER: issuer,
        SSRF_TOKEN: token,
      },
      timeout: 20_000,
    },
  )
  return JSON.parse(stdout) as { outcome: string; log: string }
}

it('never fetches an http: loopback jwks_uri named by an https: issuer, and the honest document verifies', async () => {
  const token = await sign(key, { iss: issuer, sub: 'alice', aud: 'api' })

  metadata = { issuer, jwks_uri: `${internal.origin}/admin/jwks` }
  const attack = await verifyInChild(token)
  expect(attack.outcome).toBe('jwks_unavailable jwks_unavailable')
  expect(attack.log).toContain('discovery jwks_uri must use https: as the metadata does')
  expect(internal.hits()).toBe(0)

  // The honest twin: the issuer's own https: JWKS.
  metadata = { issuer, jwks_uri: `${issuer}/jwks` }
  expect((await verifyInChild(token)).outcome).toBe('ok alice')
  expect(internal.hits()).toBe(0)
}, 40_000)
