/**
 * Floods, bounded in count and time: 100 000 tokens with random kids for a trusted issuer (the
 * JWKS requests stay within the cooldown bound), 100 000 tokens from random untrusted issuers (no
 * network, sampled log lines), 10 000 concurrent requests through each adapter on a cold cache
 * (one JWKS fetch, every request answered correctly), and the heap after each flood, measured
 * after a full GC in a child `node --expose-gc` process (flood-memory.ts).
 *
 * FLOOD_SCALE=<n> multiplies every size, for longer local runs.
 */
import { createVerifier } from '@trustgate/core'
import { randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import ts from 'typescript'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHarness, keyOf, type Harness } from '../helpers/attacks.js'
import { b64json, createKey, jwks, sign, type TestKey } from '../helpers/keys.js'
import { captureLogger } from '../helpers/log.js'
import { startServer, type TestServer } from '../helpers/server.js'

const SCALE = Number(process.env.FLOOD_SCALE ?? 1)
const FLOOD = 100_000 * SCALE
const CONCURRENT = 10_000 * SCALE
const BATCH = 2000
const COOLDOWN_MS = 30_000
const LOG_WINDOW_MS = 5000
const LOG_LINES_PER_WINDOW = 5

/** Heap growth allowed after a flood of rejected tokens: they must leave nothing behind. */
const REJECTED_FLOOD_HEAP_BOUND = 4 * 1024 * 1024
/** Heap growth allowed after twice the token cache's capacity of valid tokens (cache cap: 32 MiB). */
const VALID_FLOOD_HEAP_BOUND = 48 * 1024 * 1024

let idp: TestServer
let attacker: TestServer
let key: TestKey

beforeAll(async () => {
  ;[idp, attacker] = await Promise.all([startServer(), startServer()])
  key = await createKey('ES256')
})
afterAll(async () => {
  await Promise.all([idp.close(), attacker.close()])
})

/** Verifies `count` tokens from `make`, `BATCH` at a time; tallies the reasons. */
async function flood(
  verify: (token: string) => Promise<unknown>,
  count: number,
  make: (i: number) => string,
): Promise<Record<string, number>> {
  const tally: Record<string, number> = {}
  for (let start = 0; start < count; start += BATCH) {
    const tokens = Array.from({ length: Math.min(BATCH, count - start) }, (_, j) => make(start + j))
    const outcomes = await Promise.all(
      tokens.map((token) =>
        verify(token).then(
          () => 'ok',
          (error: unknown) => {
            if ((error as Error).name !== 'AuthError') throw error
            return (error as { reason: string }).reason
          },
        ),
      ),
    )
    for (const outcome of outcomes) tally[outcome] = (tally[outcome] ?? 0) + 1
  }
  return tally
}

describe('floods through the core', () => {
  it(`keeps JWKS requests within the cooldown bound for ${String(FLOOD)} tokens with random kids`, async () => {
    const iss = `${idp.origin}/kids`
    idp.route('/kids/jwks', { kind: 'json', body: jwks(key) })
    const log = captureLogger()
    const verifier = createVerifier({
      logger: log.logger,
      issuers: [{ issuer: iss, audience: 'api', jwksUri: `${iss}/jwks` }],
    })
    const payload = b64json({
      iss,
      sub: 'alice',
      aud: 'api',
      exp: Math.floor(Date.now() / 1000) + 3600,
    })
    const signature = randomBytes(64).toString('base64url')
    const started = Date.now()
    const tally = await flood(
      verifier.verify,
      FLOOD,
      () =>
        `${b64json({ alg: 'ES256', kid: randomBytes(12).toString('hex') })}.${payload}.${signature}`,
    )
    const elapsed = Date.now() - started
    expect(tally).toEqual({ unknown_kid: FLOOD })
    // The cold fetch, then at most one refetch per cooldown interval.
    expect(idp.hits('/kids/jwks')).toBeGreaterThanOrEqual(1)
    expect(idp.hits('/kids/jwks')).toBeLessThanOrEqual(1 + Math.ceil(elapsed / COOLDOWN_MS))
    // The honest twin still passes, and the flood left no token in any log line.
    const honest = await sign(key, { iss, sub: 'alice', aud: 'api' })
    expect((await verifier.verify(honest)).key).toBe(keyOf(iss, 'alice'))
    expect(log.raw.length).toBeLessThanOrEqual(2)
  })

  it(`makes no request and writes sampled log lines for ${String(FLOOD)} random untrusted issuers`, async () => {
    idp.route('/trusted/jwks', { kind: 'json', body: jwks(key) })
    const log = captureLogger()
    const iss = `${idp.origin}/trusted`
    const verifier = createVerifier({
      logger: log.logger,
      issuers: [{ issuer: iss, audience: 'api', jwksUri: `${iss}/jwks` }],
    })
    idp.resetHits()
    attacker.resetHits()
    const header = b64json({ alg: 'ES256', kid: key.kid })
    const signature = randomBytes(64).toString('base64url')
    const started = Date.now()
    // Untrusted issuers on the attacker's server: any request made for them would be counted.
    const tally = await flood(verifier.verify, FLOOD, () => {
      const claims = {
        iss: `${attacker.origin}/${randomBytes(8).toString('hex')}`,
        sub: 'alice',
        aud: 'api',
      }
      return `${header}.${b64json(claims)}.${signature}`
    })
    const elapsed = Date.now() - started
    expect(tally).toEqual({ untrusted_issuer: FLOOD })
    expect(idp.hits() + attacker.hits()).toBe(0)
    const warnings = log.lines.filter((line) => line.event === 'untrusted_issuer')
    expect(warnings.length).toBe(log.lines.length)
    expect(warnings.length).toBeLessThanOrEqual(
      LOG_LINES_PER_WINDOW * (Math.ceil(elapsed / LOG_WINDOW_MS) + 1),
    )
    const suppressed = warnings.reduce((sum, line) => sum + (line.suppressed as number), 0)
    expect(warnings.length + suppressed).toBeLessThanOrEqual(FLOOD)
  })

  it('holds the heap within its bound after each flood, measured after GC in a child process', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url))
    const source = await readFile(new URL('flood-memory.ts', import.meta.url), 'utf8')
    const script = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', script],
      {
        cwd: root,
        env: { ...process.env, FLOOD_N: String(FLOOD), FLOOD_VALID: String(20_000 * SCALE) },
        timeout: 120_000,
      },
    )
    const result = JSON.parse(stdout) as {
      heap: Record<
        'baseline' | 'afterRandomKids' | 'afterUntrustedIssuers' | 'afterValidDistinct',
        number
      >
      tallies: Record<string, Record<string, number>>
      jwksHits: number
      logLines: number
    }
    const { heap } = result
    expect(result.tallies).toEqual({
      randomKids: { unknown_kid: FLOOD },
      untrustedIssuers: { untrusted_issuer: FLOOD },
      validDistinct: { ok: 20_000 * SCALE },
    })
    expect(result.jwksHits).toBeLessThanOrEqual(2)
    expect(result.logLines).toBeLessThanOrEqual(20)
    expect(heap.afterRandomKids - heap.baseline).toBeLessThan(REJECTED_FLOOD_HEAP_BOUND)
    expect(heap.afterUntrustedIssuers - heap.afterRandomKids).toBeLessThan(
      REJECTED_FLOOD_HEAP_BOUND,
    )
    expect(heap.afterValidDistinct - heap.baseline).toBeLessThan(VALID_FLOOD_HEAP_BOUND)
    console.info(`flood-memory: ${stdout.trim()}`)
  }, 150_000)
})

describe('concurrent requests on a cold cache', () => {
  let harness: Harness
  let iss: string
  let valid: string[]
  let forged: string[]

  beforeAll(async () => {
    iss = `${idp.origin}/cold`
    // Slow enough that the first requests all find the cache cold and wait on the same fetch.
    idp.route('/cold/jwks', { kind: 'json', body: jwks(key), delayMs: 200 })
    harness = await createHarness({
      logger: captureLogger().logger,
      issuers: [{ issuer: iss, audience: 'api', jwksUri: `${iss}/jwks` }],
    })
    valid = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        sign(key, { iss, sub: `user-${String(i)}`, aud: 'api' }),
      ),
    )
    // A forged twin of each: the same claims, another user's signature.
    forged = valid.map(
      (token, i) =>
        `${token.split('.').slice(0, 2).join('.')}.${valid[(i + 1) % valid.length]!.split('.')[2]!}`,
    )
    idp.resetHits()
  })
  afterAll(async () => {
    await harness.close()
  })

  function expected(i: number): { token: string; status: number; key?: string } {
    const n = i % 100
    return i % 10 === 9
      ? { token: forged[n]!, status: 401 }
      : { token: valid[n]!, status: 200, key: keyOf(iss, `user-${String(n)}`) }
  }

  it(`answers ${String(CONCURRENT)} concurrent Fastify requests correctly with one JWKS fetch`, async () => {
    const responses = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) =>
        harness.fastify.inject({
          method: 'GET',
          url: '/me',
          headers: { authorization: `Bearer ${expected(i).token}` },
        }),
      ),
    )
    responses.forEach((response, i) => {
      const want = expected(i)
      expect(response.statusCode).toBe(want.status)
      expect(response.json()).toEqual(
        want.status === 200
          ? { key: want.key }
          : { error: 'invalid_token', error_description: 'The token signature is invalid' },
      )
    })
    expect(idp.hits('/cold/jwks')).toBe(1)
  }, 60_000)

  it(`answers ${String(CONCURRENT)} Express requests over 200 sockets correctly with one JWKS fetch`, async () => {
    let next = 0
    let wrong = 0
    async function worker(): Promise<void> {
      for (let i = next++; i < CONCURRENT; i = next++) {
        const want = expected(i)
        const response = await fetch(`${harness.expressOrigin}/me`, {
          headers: { authorization: `Bearer ${want.token}` },
        })
        const body = (await response.json()) as { key?: string; error?: string }
        const right =
          response.status === want.status &&
          (want.status === 200 ? body.key === want.key : body.error === 'invalid_token')
        if (!right) wrong++
      }
    }
    await Promise.all(Array.from({ length: 200 }, worker))
    expect(wrong).toBe(0)
    // The Express app has its own verifier: its cold fetch is the second request to the IdP.
    expect(idp.hits('/cold/jwks')).toBe(2)
  }, 90_000)
})
