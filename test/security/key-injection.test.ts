/**
 * RFC 8725 s3.10 and the header-injection labs: a token must never choose the key that verifies
 * it. `jwk`, `jku`, `x5u` and `x5c` are never read (the attacker's server must receive no request),
 * `kid` is only a lookup string in the issuer's own set, and `crit` that we do not understand is
 * refused (RFC 7515 s4.1.11).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAccepted, expectRefused, keyOf, signRaw } from '../helpers/attacks.js'
import {
  createAttackWorld,
  HMAC_ISS,
  SECRET,
  type AttackWorld,
} from '../helpers/attacks-fixture.js'
import { b64json, sign, signHmac } from '../helpers/keys.js'

let world: AttackWorld

beforeAll(async () => {
  world = await createAttackWorld()
})
afterAll(async () => {
  await world.close()
})

describe('embedded and remote key headers', () => {
  it('accepts the honest twin, signed by the trusted key with the same claims', async () => {
    expectAccepted(
      await world.harness.run(await sign(world.rs, world.claims())),
      keyOf(world.iss, 'alice'),
    )
  })

  it('refuses a token carrying its own jwk with the attacker kid as unknown_kid', async () => {
    const token = await sign(world.evil, world.claims(), { header: { jwk: world.evil.jwk } })
    expectRefused(await world.harness.run(token), { reason: 'unknown_kid' }, token, world.log.raw)
    // The twin: the same claims and embedded jwk header, signed by the trusted key under its kid.
    const twin = await sign(world.rs, world.claims(), { header: { jwk: world.rs.jwk } })
    expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
  })

  it('refuses a token carrying its own jwk under the trusted kid as bad_signature', async () => {
    const token = await sign(world.evilTwin, world.claims(), {
      header: { jwk: world.evilTwin.jwk },
    })
    expectRefused(await world.harness.run(token), { reason: 'bad_signature' }, token, world.log.raw)
    const twin = await sign(world.rs, world.claims(), { header: { jwk: world.rs.jwk } })
    expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
  })

  it('refuses a token without kid carrying its own jwk, without trying the embedded key', async () => {
    const token = await sign(world.evil, world.claims(), {
      header: { kid: undefined, jwk: world.evil.jwk },
    })
    const outcomes = await world.harness.run(token)
    // No kid: the IdP set holds two RS256 keys, so the choice is ambiguous and refused.
    expectRefused(outcomes, { reason: 'unknown_kid' }, token, world.log.raw)
    // A kid-less twin is ambiguous too (two RS256 keys): the nearest honest token names the kid.
    const twin = await sign(world.rs, world.claims(), { header: { jwk: world.rs.jwk } })
    expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
  })

  for (const param of ['jku', 'x5u'] as const) {
    it(`refuses a token whose ${param} points at the attacker, who receives no request`, async () => {
      const url = `${world.attacker.origin}/${param === 'jku' ? 'jwks' : 'x5u'}`
      const withKid = await sign(world.evil, world.claims(), { header: { [param]: url } })
      expectRefused(
        await world.harness.run(withKid),
        { reason: 'unknown_kid' },
        withKid,
        world.log.raw,
      )
      const trustedKid = await sign(world.evilTwin, world.claims(), { header: { [param]: url } })
      expectRefused(
        await world.harness.run(trustedKid),
        { reason: 'bad_signature' },
        trustedKid,
        world.log.raw,
      )
      // The twin: the trusted key signs the same claims, with the same header naming the attacker.
      const twin = await sign(world.rs, world.claims(), { header: { [param]: url } })
      expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
      expect(world.attacker.hits()).toBe(0)
    })
  }

  it('refuses a token whose x5c holds a made-up certificate, read by nobody', async () => {
    const x5c = [Buffer.from('not a certificate, but nobody should parse it').toString('base64')]
    const token = await sign(world.evilTwin, world.claims(), { header: { x5c } })
    expectRefused(await world.harness.run(token), { reason: 'bad_signature' }, token, world.log.raw)
    const twin = await sign(world.rs, world.claims(), { header: { x5c } })
    expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
  })

  it('verifies a genuinely signed token whatever jku it names, without fetching it', async () => {
    // The trusted issuer's own token with a jku: the header is ignored, the issuer's set decides.
    const token = await sign(world.rs, world.claims(), {
      header: { jku: `${world.attacker.origin}/jwks` },
    })
    expectAccepted(await world.harness.run(token), keyOf(world.iss, 'alice'))
    expect(world.attacker.hits()).toBe(0)
  })
})

describe('kid injection', () => {
  it('accepts the honest twin with the kid of the trusted key', async () => {
    expectAccepted(
      await world.harness.run(await sign(world.rs, world.claims())),
      keyOf(world.iss, 'alice'),
    )
  })

  const stringKids: [string, string][] = [
    ['path traversal', '../../../../../../dev/null'],
    ['absolute path', '/etc/passwd'],
    ['SQL-ish', "' UNION SELECT 'secret' -- "],
    ['SQL-ish boolean', "x' OR '1'='1"],
    ['command-ish', '$(curl attacker)|;`id`'],
    ['control characters and CRLF', 'k\r\nforged: log\u0000line'],
    ['empty', ''],
    ['huge', 'k'.repeat(8000)],
    ['prototype name', '__proto__'],
    ['constructor', 'constructor'],
  ]
  for (const [name, kid] of stringKids) {
    it(`refuses a ${name} kid as unknown_kid`, async () => {
      const token = await sign(world.rs, world.claims(), { header: { kid } })
      expectRefused(await world.harness.run(token), { reason: 'unknown_kid' }, token, world.log.raw)
      // The twin: the same claims under the trusted key's real kid (a cache hit, no fetch).
      const twin = await sign(world.rs, world.claims())
      expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
    })
  }

  it('refuses a path traversal kid signed HS256 with an empty or /dev/null-like secret', async () => {
    const claims = { iss: HMAC_ISS, sub: 'alice', aud: 'api' }
    expectAccepted(
      await world.harness.run(await signHmac(SECRET, claims)),
      keyOf(HMAC_ISS, 'alice'),
    )
    // The honest twin with the same kid, signed with the real secret, passes.
    expectAccepted(
      await world.harness.run(
        await signHmac(SECRET, claims, { header: { kid: '../../../../../dev/null' } }),
      ),
      keyOf(HMAC_ISS, 'alice'),
    )
    const payload = JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 })
    for (const secret of [new Uint8Array(0), new Uint8Array(1), Buffer.from('AA==')]) {
      const header = { alg: 'HS256', kid: '../../../../../dev/null' }
      const token = signRaw(secret, 'HS256', JSON.stringify(header), payload)
      // The secret is the HMAC issuer's only key, whatever kid a token names: the forged MAC fails.
      expectRefused(
        await world.harness.run(token),
        { reason: 'bad_signature' },
        token,
        world.log.raw,
      )
      const noKid = signRaw(secret, 'HS256', JSON.stringify({ alg: 'HS256' }), payload)
      expectRefused(
        await world.harness.run(noKid),
        { reason: 'bad_signature' },
        noKid,
        world.log.raw,
      )
    }
  })

  it('refuses a kid that is not a string (number, null, array, object, boolean) as malformed', async () => {
    for (const kid of [1, 0, null, [world.rs.kid], { $ne: null }, true]) {
      const token = await sign(world.rs, world.claims(), { header: { kid } })
      expectRefused(await world.harness.run(token), { reason: 'malformed' }, token, world.log.raw)
    }
    const twin = await sign(world.rs, world.claims())
    expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
  })

  it('keeps the IdP within one refetch per verifier for all those unknown kids (cooldown)', () => {
    // Three verifiers (core, Fastify, Express): one first fetch each, one cooldown refetch each.
    expect(world.idp.hits('/jwks')).toBeLessThanOrEqual(6)
    expect(world.attacker.hits()).toBe(0)
  })
})

describe('crit', () => {
  it('accepts the twin without crit', async () => {
    expectAccepted(
      await world.harness.run(await sign(world.rs, world.claims())),
      keyOf(world.iss, 'alice'),
    )
  })

  const crits: [string, Record<string, unknown>][] = [
    ['a registered claim name', { crit: ['exp'] }],
    ['b64 false (RFC 7797)', { crit: ['b64'], b64: false }],
    [
      'an unknown extension',
      { crit: ['https://attacker.test/ext'], 'https://attacker.test/ext': 1 },
    ],
    ['an empty list', { crit: [] }],
    ['a string', { crit: 'exp' }],
    ['null', { crit: null }],
  ]
  for (const [name, header] of crits) {
    it(`refuses a correctly signed token with crit of ${name}`, async () => {
      const token = b64json({ alg: 'RS256', kid: world.rs.kid, ...header })
      const payload = JSON.stringify(world.claims({ exp: Math.floor(Date.now() / 1000) + 600 }))
      // jose refuses to sign some of these headers: sign the raw bytes instead.
      const signed = signRaw(
        world.rs.privateKey,
        'RS256',
        Buffer.from(token, 'base64url').toString(),
        payload,
      )
      expectRefused(
        await world.harness.run(signed),
        { reason: 'unsupported_crit' },
        signed,
        world.log.raw,
      )
      // The twin: the same header and claims without crit, signed by the same trusted key.
      const { crit: _crit, ...rest } = header
      const twin = signRaw(
        world.rs.privateKey,
        'RS256',
        JSON.stringify({ alg: 'RS256', kid: world.rs.kid, ...rest }),
        payload,
      )
      expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
    })
  }
})
