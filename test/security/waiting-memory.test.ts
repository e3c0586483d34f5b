/**
 * Issue 9, item 4, in the issue's own scenario: 3000 concurrent requests, each with a 16 KB token
 * whose payload is `[{},{},…]` (about 256 KiB once decoded), wait on a slow JWKS, through a real
 * Fastify server on 127.0.0.1 with a small heap. On main, where each waiting request held its
 * decoded token, the server died with "JavaScript heap out of memory" (this test fails there: the
 * child exits before every request is answered). Now every request is answered 401.
 *
 * The server runs in a child process (waiting-memory.ts) with `--max-old-space-size`; this process
 * serves the JWKS, holds it back until the child reports all 3000 requests in flight at once, and
 * sends the requests, one socket each.
 */
import { execPath } from 'node:process'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { b64json, createKey, jwks, sign, type TestKey } from '../helpers/keys.js'
import { startServer, type TestServer } from '../helpers/server.js'

const N = 3000
/**
 * The child's heap: 3000 decoded payloads would need some 750 MiB of it. The fixed version peaks
 * near 100 MiB (the 3000 raw 16 KB headers themselves, copied by Node and Fastify); 192 MiB was
 * once too tight for that on a loaded machine, whose collector lags, so the margin is wider.
 */
const HEAP_MIB = 320
const TOKEN_LENGTH = 16384

let idp: TestServer
let key: TestKey

beforeAll(async () => {
  idp = await startServer()
  key = await createKey('ES256')
})
afterAll(async () => {
  await idp.close()
})

/**
 * Tokens of just under `TOKEN_LENGTH` characters whose payload pads with `{}`s, with forged
 * signatures: the padding is sized once, for the longest `sub`, and spliced in as text.
 */
function heavyTokens(iss: string, count: number): string[] {
  const header = b64json({ alg: 'ES256', kid: key.kid })
  const claims = (i: number, pad: string): string =>
    `{"iss":${JSON.stringify(iss)},"sub":"user-${String(i)}","aud":"api","exp":4102444800,"pad":${pad}}`
  const signature = randomBytes(64).toString('base64url')
  const length = (pad: string): number =>
    `${header}.${Buffer.from(claims(count - 1, pad)).toString('base64url')}.${signature}`.length
  let pad = `[${'{},'.repeat(Math.floor(TOKEN_LENGTH / 4))}{}]`
  while (length(pad) > TOKEN_LENGTH) pad = `[${pad.slice(4)}`
  return Array.from(
    { length: count },
    (_, i) =>
      `${header}.${Buffer.from(claims(i, pad)).toString('base64url')}.${randomBytes(64).toString('base64url')}`,
  )
}

function get(port: number, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/me',
        agent: false,
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', (error) => resolve({ status: 0, body: error.message }))
    req.end()
  })
}

/** The child's stdout as JSON lines, each handed to the first waiter that wants it. */
function lines(
  child: ChildProcessWithoutNullStreams,
): (what: string) => Promise<Record<string, number>> {
  const seen: Record<string, number>[] = []
  const waiters: [string, (line: Record<string, number>) => void][] = []
  let exited = ''
  const deliver = (): void => {
    for (const [i, [what, resolve]] of waiters.entries()) {
      const line = seen.find((l) => what in l)
      if (line !== undefined) {
        waiters.splice(i, 1)
        resolve(line)
        return deliver()
      }
    }
  }
  createInterface({ input: child.stdout }).on('line', (text) => {
    seen.push(JSON.parse(text) as Record<string, number>)
    deliver()
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const failures: ((error: Error) => void)[] = []
  child.on('exit', (code, signal) => {
    exited = `the server exited (code ${String(code)}, signal ${String(signal)}): ${stderr.slice(-400)}`
    for (const fail of failures) fail(new Error(exited))
  })
  return (what) =>
    new Promise((resolve, reject) => {
      if (exited !== '') return reject(new Error(exited))
      failures.push(reject)
      waiters.push([what, resolve])
      deliver()
    })
}

it(`answers ${String(N)} concurrent 16 KB [{},{},…] tokens waiting on a slow JWKS, in a ${String(HEAP_MIB)} MiB heap`, async () => {
  const iss = `${idp.origin}/slow`
  let release: () => void = () => undefined
  const released = new Promise<void>((resolve) => (release = resolve))
  idp.route('/slow/jwks', {
    kind: 'handler',
    handle: (_req, res) => {
      void released.then(() => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks(key)))
      })
    },
  })
  const tokens = heavyTokens(iss, N)
  // The honest twin, waiting among them: a small token the issuer really signed.
  tokens[0] = await sign(key, { iss, sub: 'alice', aud: 'api' })
  expect(
    tokens.slice(1).every((t) => t.length > TOKEN_LENGTH - 16 && t.length <= TOKEN_LENGTH),
  ).toBe(true)

  const root = fileURLToPath(new URL('../..', import.meta.url))
  const source = await readFile(new URL('waiting-memory.ts', import.meta.url), 'utf8')
  const script = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText
  const child = spawn(
    execPath,
    [
      `--max-old-space-size=${String(HEAP_MIB)}`,
      // Node's default header limit is 16 KiB: a 16384-character token and its header need more.
      '--max-http-header-size=32768',
      '--input-type=module',
      '-e',
      script,
    ],
    {
      cwd: root,
      env: { ...process.env, WAIT_ISSUER: iss, WAIT_JWKS_URI: `${iss}/jwks`, WAIT_N: String(N) },
    },
  )
  try {
    const next = lines(child)
    const { port } = await next('port')
    const responses = Promise.all(tokens.map((token) => get(port as number, token)))
    // Every request is in the server, waiting for the key set: only now does the JWKS answer.
    const { waiting } = await next('waiting')
    release()
    const answered = await responses
    child.stdin.write('report\n')
    const report = await next('peakHeapUsed')
    console.info(
      `waiting-memory: ${JSON.stringify({ waiting, peakInFlight: report.peakInFlight, peakHeapUsedMiB: Math.round((report.peakHeapUsed as number) / 2 ** 20), heapLimitMiB: Math.round((report.heapLimit as number) / 2 ** 20) })}`,
    )
    const tally: Record<string, number> = {}
    for (const { status, body } of answered) {
      const key = `${String(status)} ${body}`
      tally[key] = (tally[key] ?? 0) + 1
    }
    expect(tally).toEqual({
      [`401 ${JSON.stringify({ error: 'invalid_token', error_description: 'The token signature is invalid' })}`]:
        N - 1,
      [`200 ${JSON.stringify({ key: `${iss}|alice` })}`]: 1,
    })
    expect(report.peakInFlight).toBe(N)
    expect(idp.hits('/slow/jwks')).toBe(1)
    expect(report.peakHeapUsed).toBeLessThan(report.heapLimit as number)
  } finally {
    child.kill()
  }
}, 55_000)
