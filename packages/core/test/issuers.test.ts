/**
 * issuers.ts (STEP 3): spellings, `{tenantid}` templates with `tenants`, and `resolveIssuer` for
 * issuers added at run time, through the verifier, against a real JWKS server on 127.0.0.1 that
 * counts its requests.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { IssuerConfig } from '../src/issuer-config.js'
import type { VerifierOptions } from '../src/verifier-options.js'
import { createVerifier } from '../src/verifier.js'
import { b64json, createKey, jwks, sign, type TestKey } from '../../../test/helpers/keys.js'
import { captureLogger, type CapturedLogger } from '../../../test/helpers/log.js'
import { startServer, type TestServer } from '../../../test/helpers/server.js'
import { expectRejection, invalidToken } from '../../../test/helpers/auth-error.js'

let idp: TestServer
let key: TestKey
let log: CapturedLogger

beforeAll(async () => {
  key = await createKey('ES256')
  idp = await startServer()
  idp.route('/jwks', { kind: 'json', body: jwks(key) })
})
afterAll(() => idp.close())

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function verifierOf(options: Partial<VerifierOptions> & Pick<VerifierOptions, 'issuers'>) {
  log = captureLogger('info')
  return createVerifier({ logger: log.logger, tokenCache: false, ...options })
}

function tenantIssuer(tenant: string): string {
  return `https://login.example.test/${tenant}/v2.0`
}

describe('issuer spellings', () => {
  it('accepts every spelling under the canonical issuer and key, with one key fetch', async () => {
    const verifier = verifierOf({
      issuers: [
        {
          issuer: ['https://accounts.example.test', 'accounts.example.test'],
          audience: 'api',
          jwksUri: `${idp.origin}/jwks`,
        },
      ],
    })
    idp.resetHits()
    for (const iss of ['https://accounts.example.test', 'accounts.example.test']) {
      const principal = await verifier.verify(await sign(key, { iss, sub: 'u1', aud: 'api' }))
      expect([principal.issuer, principal.key]).toEqual([
        'https://accounts.example.test',
        'https://accounts.example.test|u1',
      ])
      expect(principal.claims.iss).toBe(iss)
    }
    expect(idp.hits('/jwks')).toBe(1)
    const other = await sign(key, { iss: 'https://accounts.example.test/', sub: 'u1', aud: 'api' })
    await expectRejection(verifier.verify(other), invalidToken('untrusted_issuer'), other)
  })

  it('refuses a spelling configured twice, and a template mixed with plain spellings', () => {
    const base = { audience: 'api', jwksUri: `${idp.origin}/jwks` }
    expect(() =>
      verifierOf({
        issuers: [
          { ...base, issuer: ['a.test', 'b.test'] },
          { ...base, issuer: 'b.test' },
        ],
      }),
    ).toThrow('trustgate: issuers[1].issuer is configured twice')
    expect(() =>
      verifierOf({ issuers: [{ ...base, issuer: ['https://x/{tenantid}', 'y'] }] }),
    ).toThrow('issuers[0].issuer must hold {tenantid} in every spelling or in none')
    expect(() => verifierOf({ issuers: [{ ...base, issuer: [] }] })).toThrow(
      'issuers[0].issuer must be a non-empty array of strings',
    )
  })
})

describe('audience null, clientIds and claims', () => {
  const base = { issuer: 'https://idp.test', jwksUri: 'https://idp.test/jwks' }

  it('refuses audience null with nothing else to bind the token, with a clear message', () => {
    expect(() => verifierOf({ issuers: [{ ...base, audience: null }] })).toThrow(
      'trustgate: issuers[0].audience is null, so clientIds or claims must say which tokens are meant for this API',
    )
    expect(() =>
      verifierOf({ issuers: [{ ...base, audience: null, clientIds: ['c'] }] }),
    ).not.toThrow()
    expect(() =>
      verifierOf({ issuers: [{ ...base, audience: null, claims: { token_use: 'access' } }] }),
    ).not.toThrow()
  })

  it('names a bad claim rule, a bad clientIds list and tenants without a template', () => {
    expect(() =>
      verifierOf({ issuers: [{ ...base, audience: 'api', claims: { hd: {} as never } }] }),
    ).toThrow('issuers[0].claims.hd must be a string, number or boolean')
    expect(() => verifierOf({ issuers: [{ ...base, audience: 'api', clientIds: [] }] })).toThrow(
      'issuers[0].clientIds must be a non-empty array of strings',
    )
    expect(() => verifierOf({ issuers: [{ ...base, audience: 'api', tenants: ['t'] }] })).toThrow(
      'issuers[0].tenants needs an issuer with {tenantid}',
    )
    expect(() =>
      verifierOf({ issuers: [{ ...base, audience: 'api', scopeClaims: [''] }] }),
    ).toThrow('issuers[0].scopeClaims[0] must be a non-empty string')
  })

  it('checks client_id before azp, each kind of rule, and a throwing rule as a refusal', async () => {
    const verifier = verifierOf({
      issuers: [
        {
          issuer: 'https://rules.test',
          audience: null,
          keys: jwks(key),
          clientIds: ['app'],
          scopeClaims: ['scope', 'permissions'],
          claims: {
            token_use: 'access',
            groups: ['admin', 'ops'],
            level: (value) => typeof value === 'number' && value >= 2,
            boom: () => {
              throw new Error('rule failed')
            },
          },
        },
      ],
    })
    const honest = {
      iss: 'https://rules.test',
      sub: 's',
      client_id: 'app',
      token_use: 'access',
      groups: ['ops'],
      level: 3,
      permissions: ['read:x'],
      scope: 'a',
    }
    // `boom` throws for every token: remove it to see the honest twin pass.
    const refused = await sign(key, honest)
    await expectRejection(verifier.verify(refused), invalidToken('claim_mismatch'), refused)
    const lenient = verifierOf({
      issuers: [
        {
          issuer: 'https://rules.test',
          audience: null,
          keys: jwks(key),
          clientIds: ['app'],
          scopeClaims: ['scope', 'permissions'],
          claims: {
            token_use: 'access',
            groups: ['admin', 'ops'],
            level: (value) => typeof value === 'number' && value >= 2,
          },
        },
      ],
    })
    const principal = await lenient.verify(await sign(key, honest))
    expect([principal.audience, principal.scopes]).toEqual([[], ['a', 'read:x']])
    const cases: [Record<string, unknown>, string][] = [
      [{ client_id: 'other', azp: 'app' }, 'client_mismatch'],
      [{ client_id: undefined, azp: 'app' }, 'ok'],
      [{ client_id: undefined }, 'client_mismatch'],
      [{ token_use: 'id' }, 'claim_mismatch'],
      [{ groups: 'admin' }, 'ok'],
      [{ groups: ['users'] }, 'claim_mismatch'],
      [{ level: 1 }, 'claim_mismatch'],
      [{ aud: 'anything' }, 'ok'],
      [{ aud: 7 }, 'invalid_claim'],
    ]
    for (const [change, expected] of cases) {
      const token = await sign(key, { ...honest, ...change })
      if (expected === 'ok') await expect(lenient.verify(token)).resolves.toBeDefined()
      else await expectRejection(lenient.verify(token), invalidToken(expected), token)
    }
  })
})

describe('{tenantid} templates', () => {
  const template: IssuerConfig = {
    issuer: ['https://login.example.test/{tenantid}/v2.0', 'https://sts.example.test/{tenantid}/'],
    audience: 'api',
    jwksUri: '',
    tenants: ['t1', 't2'],
  }

  it('accepts a listed tenant under either spelling, as the canonical issuer of that tenant', async () => {
    const verifier = verifierOf({ issuers: [{ ...template, jwksUri: `${idp.origin}/jwks` }] })
    for (const iss of [tenantIssuer('t1'), 'https://sts.example.test/t1/']) {
      const principal = await verifier.verify(
        await sign(key, { iss, tid: 't1', sub: 'u', aud: 'api' }),
      )
      expect(principal.key).toBe(`${tenantIssuer('t1')}|u`)
    }
  })

  it('refuses an unlisted tenant as untrusted with no request, and a tid of another tenant', async () => {
    const verifier = verifierOf({ issuers: [{ ...template, jwksUri: `${idp.origin}/jwks` }] })
    idp.resetHits()
    for (const tenant of ['t3', 'a/b', 'x'.repeat(65), '']) {
      const token = await sign(key, {
        iss: tenantIssuer(tenant),
        tid: tenant,
        sub: 'u',
        aud: 'api',
      })
      await expectRejection(verifier.verify(token), invalidToken('untrusted_issuer'), token)
    }
    expect(idp.hits()).toBe(0)
    const lying = await sign(key, { iss: tenantIssuer('t1'), tid: 't2', sub: 'u', aud: 'api' })
    await expectRejection(verifier.verify(lying), invalidToken('tenant_mismatch'), lying)
    const honest = await sign(key, { iss: tenantIssuer('t1'), tid: 't1', sub: 'u', aud: 'api' })
    await expect(verifier.verify(honest)).resolves.toBeDefined()
  })

  it('asks a tenants function on every request, cached tokens included', async () => {
    const allowed = new Set(['t1'])
    const verifier = createVerifier({
      logger: captureLogger().logger,
      issuers: [{ ...template, jwksUri: `${idp.origin}/jwks`, tenants: (t) => allowed.has(t) }],
    })
    const t2 = await sign(key, { iss: tenantIssuer('t2'), tid: 't2', sub: 'u', aud: 'api' })
    await expectRejection(verifier.verify(t2), invalidToken('untrusted_issuer'), t2)
    allowed.add('t2')
    await expect(verifier.verify(t2)).resolves.toBeDefined()
    expect(verifier.authenticateCached(`Bearer ${t2}`)).toBeDefined()
    allowed.delete('t2')
    expect(verifier.authenticateCached(`Bearer ${t2}`)).toBeUndefined()
    await expectRejection(verifier.verify(t2), invalidToken('untrusted_issuer'), t2)
  })

  it('reads the template metadata at discoveryTenant, and requires its issuer to be the template', async () => {
    const server = await startServer()
    const metadata = (issuer: string) => ({ issuer, jwks_uri: `${idp.origin}/jwks` })
    server.route('/common/v2.0/.well-known/openid-configuration', {
      kind: 'json',
      body: metadata(`${server.origin}/{tenantid}/v2.0`),
    })
    server.route('/other/v2.0/.well-known/openid-configuration', {
      kind: 'json',
      body: metadata(`${server.origin}/other/v2.0`),
    })
    const config = (discoveryTenant: string): IssuerConfig => ({
      issuer: `${server.origin}/{tenantid}/v2.0`,
      audience: 'api',
      discovery: true,
      discoveryTenant,
      tenants: ['t1'],
    })
    const token = await sign(key, {
      iss: `${server.origin}/t1/v2.0`,
      tid: 't1',
      sub: 'u',
      aud: 'api',
    })
    await expect(verifierOf({ issuers: [config('common')] }).verify(token)).resolves.toBeDefined()
    await expectRejection(
      verifierOf({ issuers: [config('other')] }).verify(token),
      { code: 'jwks_unavailable', reason: 'jwks_unavailable', status: 503 },
      token,
    )
    const { discoveryTenant: _, ...withoutTenant } = config('common')
    expect(() => verifierOf({ issuers: [withoutTenant] })).toThrow(
      'issuers[0].discoveryTenant is required with discovery and a {tenantid} issuer',
    )
    await server.close()
  })
})

describe('resolveIssuer', () => {
  /** A made-up token for `iss`: the issuer is refused before any key or signature is looked at. */
  function sprayToken(iss: string): string {
    return `${b64json({ alg: 'ES256', kid: 'k' })}.${b64json({ iss, sub: 's', aud: 'api' })}.c2ln`
  }

  it('keeps resolver calls, memory and log lines bounded under 100,000 made-up issuers, with no request', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const heap = () => {
      for (let i = 0; i < 3; i++) gc()
      return process.memoryUsage().heapUsed
    }
    let calls = 0
    const verifier = verifierOf({
      issuers: [
        { issuer: `${idp.origin}/configured`, audience: 'api', jwksUri: `${idp.origin}/jwks` },
      ],
      resolveIssuer: () => {
        calls++
        return null
      },
      resolveIssuerOptions: { callsPerSecond: 5 },
    })
    idp.resetHits()
    const before = heap()
    const started = Date.now()
    const N = 100_000
    const tally: Record<string, number> = {}
    for (let start = 0; start < N; start += 2000) {
      const batch: Promise<unknown>[] = []
      for (let i = start; i < start + 2000; i++) {
        // Made-up issuers on the local IdP's own origin: any fetch for them would be counted.
        batch.push(
          verifier
            .verify(sprayToken(`${idp.origin}/made-up-${String(i)}`))
            .catch((error: unknown) => {
              const reason = (error as { reason: string }).reason
              tally[reason] = (tally[reason] ?? 0) + 1
            }),
        )
      }
      await Promise.all(batch)
    }
    const seconds = (Date.now() - started) / 1000
    const grown = heap() - before
    expect(tally).toEqual({ untrusted_issuer: N })
    expect(idp.hits()).toBe(0)
    // A token bucket of 5 calls a second, full at the start: at most 5 + 5 per elapsed second.
    expect(calls).toBeGreaterThan(0)
    expect(calls).toBeLessThanOrEqual(5 + Math.ceil(5 * seconds))
    // untrusted_issuer warnings: 5 lines per 5-second window, the rest counted as `suppressed`.
    const warnings = log.lines.filter((line) => line.event === 'untrusted_issuer')
    expect(log.lines.length).toBe(warnings.length)
    expect(warnings.length).toBeLessThanOrEqual(5 * (1 + Math.ceil(seconds / 5)))
    const suppressed = warnings.reduce((sum, line) => sum + (line.suppressed as number), 0)
    expect(warnings.length + suppressed).toBeLessThanOrEqual(N)
    // Nothing per issuer is kept beyond the bounded answer cache (at most `calls` entries here).
    expect(grown).toBeLessThan(8 * 1024 * 1024)
    console.info(
      JSON.stringify({
        spray: N,
        seconds,
        resolverCalls: calls,
        logLines: log.lines.length,
        heapGrowthBytes: grown,
        jwksRequests: idp.hits(),
      }),
    )
  })

  it('caches answers: one call per iss at a time, null answers too', async () => {
    let calls = 0
    let release = (): void => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const iss = tenantIssuer('slow')
    const verifier = verifierOf({
      issuers: [{ issuer: 'https://configured.test', audience: 'api', keys: jwks(key) }],
      resolveIssuer: async () => {
        calls++
        await gate
        return { issuer: iss, audience: 'api', keys: jwks(key) }
      },
    })
    const token = await sign(key, { iss, sub: 'u', aud: 'api' })
    const all = Array.from({ length: 50 }, () => verifier.verify(token))
    release()
    const principals = await Promise.all(all)
    expect(principals.every((p) => p.key === `${iss}|u`)).toBe(true)
    await verifier.verify(token)
    expect(calls).toBe(1)
  })

  it('validates answers like start-up configuration, and refuses an answer for another issuer', async () => {
    const iss = tenantIssuer('t9')
    const answers: Record<string, unknown> = {
      'no key source': { issuer: iss, audience: 'api' },
      'unknown option': { issuer: iss, audience: 'api', keys: jwks(key), clockTolerence: 5 },
      'another issuer': { issuer: 'https://elsewhere.test', audience: 'api', keys: jwks(key) },
      throws: new Error('tenant database unreachable'),
    }
    for (const [name, answer] of Object.entries(answers)) {
      const verifier = verifierOf({
        issuers: [{ issuer: 'https://configured.test', audience: 'api', keys: jwks(key) }],
        resolveIssuer: () => {
          if (answer instanceof Error) throw answer
          return answer as IssuerConfig
        },
      })
      const token = await sign(key, { iss, sub: 'u', aud: 'api' })
      await expectRejection(
        verifier.verify(token),
        invalidToken('untrusted_issuer'),
        token,
        log.raw,
      )
      const failure = log.lines.find((line) => line.event === 'resolve_issuer_failed')
      expect(failure, name).toMatchObject({ level: 50, iss })
    }
    expect(() =>
      verifierOf({
        issuers: [{ issuer: 'https://configured.test', audience: 'api', keys: jwks(key) }],
        resolveIssuerOptions: { max: 0 },
      }),
    ).toThrow('trustgate: resolveIssuerOptions.max must be an integer >= 1')
  })

  it('accepts a tenant added at run time on its next request, and stops a removed one once its entry expires', async () => {
    const tenants = new Map<string, IssuerConfig>()
    const add = (tenant: string) =>
      tenants.set(tenantIssuer(tenant), {
        issuer: tenantIssuer(tenant),
        audience: 'api',
        jwksUri: `${idp.origin}/jwks`,
      })
    let calls = 0
    const verifier = createVerifier({
      logger: captureLogger().logger,
      issuers: [{ issuer: 'https://configured.test', audience: 'api', keys: jwks(key) }],
      resolveIssuer: (iss) => {
        calls++
        return tenants.get(iss) ?? null
      },
      resolveIssuerOptions: { maxAge: 300, nullMaxAge: 100 },
    })
    const tokenOf = (tenant: string) =>
      sign(key, { iss: tenantIssuer(tenant), sub: 'u', aud: 'api' })

    // Added before its first request: accepted at once.
    add('new')
    await expect(verifier.verify(await tokenOf('new'))).resolves.toMatchObject({
      issuer: tenantIssuer('new'),
    })

    // Refused before it was added: the `null` answer is kept for nullMaxAge, then asked again.
    const late = await tokenOf('late')
    await expectRejection(verifier.verify(late), invalidToken('untrusted_issuer'), late)
    add('late')
    await expectRejection(verifier.verify(late), invalidToken('untrusted_issuer'), late)
    await sleep(150)
    await expect(verifier.verify(late)).resolves.toBeDefined()

    // Removed: still accepted while its answer is cached (the token cache too), then refused.
    tenants.delete(tenantIssuer('late'))
    expect(verifier.authenticateCached(`Bearer ${late}`)).toBeDefined()
    await sleep(350)
    expect(verifier.authenticateCached(`Bearer ${late}`)).toBeUndefined()
    await expectRejection(verifier.verify(late), invalidToken('untrusted_issuer'), late)
    expect(calls).toBe(4)
  })

  it('lets no spray lock a known tenant out: its answer is kept apart and re-asked without the rate limit', async () => {
    let calls = 0
    const tenant = tenantIssuer('known')
    const verifier = verifierOf({
      issuers: [{ issuer: 'https://configured.test', audience: 'api', keys: jwks(key) }],
      resolveIssuer: (iss) => {
        calls++
        return iss === tenant ? { issuer: tenant, audience: 'api', keys: jwks(key) } : null
      },
      resolveIssuerOptions: { callsPerSecond: 1, max: 2, maxAge: 100 },
    })
    const token = await sign(key, { iss: tenant, sub: 'u', aud: 'api' })
    await expect(verifier.verify(token)).resolves.toBeDefined()
    // The bucket is empty now, and a spray keeps it so; the refused `iss` fill their own LRU.
    for (let i = 0; i < 1000; i++) {
      await verifier.verify(sprayToken(`https://spray.test/${String(i)}`)).catch(() => undefined)
    }
    await sleep(150)
    await expect(verifier.verify(token)).resolves.toBeDefined()
    expect(calls).toBeLessThanOrEqual(4)
  })

  it('is never asked for an issuer that is configured', async () => {
    let calls = 0
    const verifier = verifierOf({
      issuers: [{ issuer: 'https://configured.test', audience: 'api', keys: jwks(key) }],
      resolveIssuer: () => {
        calls++
        return null
      },
    })
    await verifier.verify(await sign(key, { iss: 'https://configured.test', sub: 'u', aud: 'api' }))
    expect(calls).toBe(0)
  })
})
