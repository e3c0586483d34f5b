/**
 * RFC 8725 s2.1, s3.1: `alg: none` must never be accepted, whatever its spelling and whether or
 * not a signature part is sent. Each forged token has an honest twin: the same claims, signed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAccepted, expectRefused, keyOf } from '../helpers/attacks.js'
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

const SPELLINGS = ['none', 'None', 'NONE', 'nOnE', 'nonE'] as const

describe('alg none', () => {
  it('accepts the honest twin: the same claims signed RS256 by the trusted key', async () => {
    const token = await sign(world.rs, world.claims())
    expectAccepted(await world.harness.run(token), keyOf(world.iss, 'alice'))
  })

  for (const alg of SPELLINGS) {
    it(`refuses alg "${alg}" with an empty signature part as malformed`, async () => {
      const token = `${b64json({ alg, typ: 'JWT' })}.${b64json(world.claims())}.`
      expectRefused(await world.harness.run(token), { reason: 'malformed' }, token, world.log.raw)
      // The honest twin: the same claims and typ, signed RS256 (with its kid: the set holds two RSA keys).
      const twin = await sign(world.rs, world.claims(), { header: { typ: 'JWT' } })
      expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
    })

    it(`refuses alg "${alg}" with no signature part at all as malformed`, async () => {
      const token = `${b64json({ alg, typ: 'JWT' })}.${b64json(world.claims())}`
      expectRefused(await world.harness.run(token), { reason: 'malformed' }, token, world.log.raw)
      // The honest twin: the same claims and typ, signed RS256 (with its kid: the set holds two RSA keys).
      const twin = await sign(world.rs, world.claims(), { header: { typ: 'JWT' } })
      expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
    })

    it(`refuses alg "${alg}" carrying the trusted kid and a real signature of other bytes`, async () => {
      const honest = await sign(world.rs, world.claims())
      const token = `${b64json({ alg, kid: world.rs.kid })}.${b64json(world.claims())}.${honest.split('.')[2]!}`
      expectRefused(
        await world.harness.run(token),
        { reason: 'alg_not_allowed' },
        token,
        world.log.raw,
      )
      expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
    })

    it(`refuses alg "${alg}" for the HMAC issuer, whose twin signed HS256 passes`, async () => {
      const claims = { iss: HMAC_ISS, sub: 'alice', aud: 'api' }
      const honest = await signHmac(SECRET, claims)
      expectAccepted(await world.harness.run(honest), keyOf(HMAC_ISS, 'alice'))
      const token = `${b64json({ alg })}.${honest.split('.')[1]!}.${honest.split('.')[2]!}`
      expectRefused(
        await world.harness.run(token),
        { reason: 'alg_not_allowed' },
        token,
        world.log.raw,
      )
    })
  }

  it('refuses an alg that is not a string (null, array, object, number)', async () => {
    const honest = await sign(world.rs, world.claims())
    const [, payload, signature] = honest.split('.') as [string, string, string]
    for (const alg of [null, ['RS256'], { name: 'RS256' }, 256, true]) {
      const token = `${b64json({ alg, kid: world.rs.kid })}.${payload}.${signature}`
      expectRefused(
        await world.harness.run(token),
        { reason: 'alg_not_allowed' },
        token,
        world.log.raw,
      )
    }
    expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
  })

  it('refuses a header without alg, even with the signature of the honest twin', async () => {
    const honest = await sign(world.rs, world.claims())
    const [, payload, signature] = honest.split('.') as [string, string, string]
    const token = `${b64json({ kid: world.rs.kid })}.${payload}.${signature}`
    expectRefused(
      await world.harness.run(token),
      { reason: 'alg_not_allowed' },
      token,
      world.log.raw,
    )
    expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
  })

  it('never made a request to the attacker server', () => {
    expect(world.attacker.hits()).toBe(0)
  })
})
