/**
 * The issuer allowlist is exact, case-sensitive string equality, checked before any key is looked
 * for: an `iss` that only looks like a trusted one (trailing slash, case, scheme, port, spaces,
 * Unicode look-alikes, encodings) is `untrusted_issuer` and costs no JWKS request at all. And the
 * same `sub` from two trusted issuers is two different principals (OIDC Core s2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAccepted, expectRefused, keyOf } from '../helpers/attacks.js'
import { createAttackWorld, type AttackWorld } from '../helpers/attacks-fixture.js'
import { jwks, sign } from '../helpers/keys.js'

const TRUSTED = 'https://auth.example.test/tenant'
const OTHER = 'https://other.example.test'
const PIPE = 'https://auth.example.test/tenant|alice'

let world: AttackWorld

beforeAll(async () => {
  world = await createAttackWorld(({ iss, staticKey }) => ({
    issuers: [
      { issuer: TRUSTED, audience: 'api', jwksUri: `${iss}/jwks` },
      { issuer: OTHER, audience: 'api', keys: jwks(staticKey) },
      { issuer: PIPE, audience: 'api', keys: jwks(staticKey) },
    ],
  }))
})
afterAll(async () => {
  await world.close()
})

const NEAR_MISSES: [string, unknown][] = [
  ['a trailing slash', `${TRUSTED}/`],
  ['an upper-case host', 'https://AUTH.example.test/tenant'],
  ['an upper-case path', 'https://auth.example.test/Tenant'],
  ['the http scheme', 'http://auth.example.test/tenant'],
  ['an upper-case scheme', 'HTTPS://auth.example.test/tenant'],
  ['the default port spelled out', 'https://auth.example.test:443/tenant'],
  ['another port', 'https://auth.example.test:8443/tenant'],
  ['a leading space', ` ${TRUSTED}`],
  ['a trailing space', `${TRUSTED} `],
  ['a trailing newline', `${TRUSTED}\n`],
  ['a trailing tab', `${TRUSTED}\t`],
  ['a trailing NUL', `${TRUSTED}\u0000`],
  ['a zero-width space', `${TRUSTED}\u200b`],
  ['a BOM in front', `\ufeff${TRUSTED}`],
  ['a Cyrillic a (U+0430)', 'https://\u0430uth.example.test/tenant'],
  ['a Cyrillic e (U+0435)', 'https://auth.\u0435xample.test/tenant'],
  [
    'a Greek omicron (U+03BF) in place of a letter',
    'https://auth.example.test/tenant'.replace('t/', '\u03bf/'),
  ],
  ['the decomposed form of an accent', 'https://auth.example.test/tenant\u0301'],
  ['full-width letters', 'https://\uff41uth.example.test/tenant'],
  ['the punycode of a look-alike', 'https://xn--uth-5cd.example.test/tenant'],
  ['a percent-encoded path', 'https://auth.example.test/%74enant'],
  ['a dot segment', 'https://auth.example.test/./tenant'],
  ['a double slash', 'https://auth.example.test//tenant'],
  ['a query', `${TRUSTED}?`],
  ['a fragment', `${TRUSTED}#`],
  ['userinfo', 'https://auth.example.test@attacker.test/tenant'],
  ['a prefix of it', 'https://auth.example.test/tenan'],
  ['it as a prefix', `${TRUSTED}x`],
  ['an array holding it', [TRUSTED]],
  ['an object', { toString: TRUSTED }],
  ['a number', 443],
  ['null', null],
  ['the empty string', ''],
  ['a 10 000 character string', `${TRUSTED}${'/x'.repeat(5000)}`],
]

describe('near-miss issuers', () => {
  it('refuses every near-miss of the trusted issuer with no JWKS request at all', async () => {
    world.idp.resetHits()
    for (const [name, iss] of NEAR_MISSES) {
      const token = await sign(world.rs, { iss: iss as string, sub: 'alice', aud: 'api' })
      const outcomes = await world.harness.run(token)
      expect(outcomes.core.reason, name).toBe('untrusted_issuer')
      expectRefused(outcomes, { reason: 'untrusted_issuer' }, token, world.log.raw)
    }
    expect(world.idp.hits()).toBe(0)
    expect(world.attacker.hits()).toBe(0)
    // The honest twin, after the counts: the exact issuer with the same claims (this fetches the JWKS).
    const twin = await sign(world.rs, { iss: TRUSTED, sub: 'alice', aud: 'api' })
    expectAccepted(await world.harness.run(twin), keyOf(TRUSTED, 'alice'))
  })

  it('accepts the honest twin with the exact issuer string, which then fetches the JWKS', async () => {
    const token = await sign(world.rs, { iss: TRUSTED, sub: 'alice', aud: 'api' })
    expectAccepted(await world.harness.run(token), keyOf(TRUSTED, 'alice'))
    // One cold fetch per verifier since the reset above (the previous test's twin may have made it).
    expect(world.idp.hits('/jwks')).toBe(3)
  })

  it('logs untrusted issuers sanitised, cut to 256 characters, sampled, without the token', () => {
    const warnings = world.log.lines.filter((line) => line.event === 'untrusted_issuer')
    // Sampling: at most 5 lines per 5 s window per verifier, however many were refused.
    expect(warnings.length).toBeGreaterThan(0)
    expect(warnings.length).toBeLessThanOrEqual(3 * 5 * 2)
    for (const line of warnings) {
      expect(line.level).toBe(40)
      if (typeof line.iss === 'string') {
        expect(line.iss.length).toBeLessThanOrEqual(256)
        // eslint-disable-next-line no-control-regex
        expect(line.iss).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/)
      }
    }
    for (const raw of world.log.raw) expect(raw.split('\n').filter(Boolean)).toHaveLength(1)
  })
})

describe('subject confusion across issuers', () => {
  it('gives the same sub from two trusted issuers two different principal keys', async () => {
    const fromTrusted = await sign(world.rs, { iss: TRUSTED, sub: 'alice', aud: 'api' })
    const fromOther = await sign(world.staticKey, { iss: OTHER, sub: 'alice', aud: 'api' })
    const a = await world.harness.run(fromTrusted)
    const b = await world.harness.run(fromOther)
    expectAccepted(a, keyOf(TRUSTED, 'alice'))
    expectAccepted(b, keyOf(OTHER, 'alice'))
    expect(a.core.key).not.toBe(b.core.key)
  })

  it('keeps keys apart when the separator appears in the issuer or the subject', async () => {
    // <TRUSTED, "alice|bob"> and <TRUSTED + "|alice", "bob"> would both join to the same naive string.
    const one = await world.harness.run(
      await sign(world.rs, { iss: TRUSTED, sub: 'alice|bob', aud: 'api' }),
    )
    const two = await world.harness.run(
      await sign(world.staticKey, { iss: PIPE, sub: 'bob', aud: 'api' }),
    )
    expectAccepted(one, keyOf(TRUSTED, 'alice|bob'))
    expectAccepted(two, keyOf(PIPE, 'bob'))
    expect(one.core.key).not.toBe(two.core.key)
  })

  it("refuses one issuer's subject signed with the other issuer's key", async () => {
    const token = await sign(world.staticKey, { iss: TRUSTED, sub: 'alice', aud: 'api' })
    expectRefused(await world.harness.run(token), { reason: 'unknown_kid' }, token, world.log.raw)
    const twin = await sign(world.rs, { iss: TRUSTED, sub: 'alice', aud: 'api' })
    expectAccepted(await world.harness.run(twin), keyOf(TRUSTED, 'alice'))
  })
})
