/**
 * RFC 8725 s2.1, s3.1 algorithm confusion: a token signed HS256/384/512 with the issuer's public
 * key (PEM or JWK text) as the HMAC secret must not verify, because an HMAC algorithm is only ever
 * used with a configured `secret`; and an asymmetric `alg` must fit the key's own type and curve.
 */
import { exportJWK, exportSPKI } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAccepted, expectRefused, keyOf, signRaw } from '../helpers/attacks.js'
import {
  createAttackWorld,
  HMAC_ISS,
  SECRET,
  type AttackWorld,
} from '../helpers/attacks-fixture.js'
import { b64json, sign, signHmac, type TestKey } from '../helpers/keys.js'

let world: AttackWorld

beforeAll(async () => {
  world = await createAttackWorld()
})
afterAll(async () => {
  await world.close()
})

/** The public key as an attacker would find it: PEM (with and without final newline) and JWK text. */
async function publicKeyForms(key: TestKey): Promise<Record<string, string>> {
  const pem = await exportSPKI(key.publicKey)
  const jwk = await exportJWK(key.publicKey)
  return {
    PEM: pem,
    'PEM without final newline': pem.trimEnd(),
    'PEM with CRLF': pem.replace(/\n/g, '\r\n'),
    'JWK JSON': JSON.stringify(jwk),
    'published JWK JSON': JSON.stringify(key.jwk),
  }
}

describe('algorithm confusion', () => {
  for (const name of ['rs', 'es', 'ed'] as const) {
    it(`refuses HS256/384/512 tokens signed with the ${name} public key as the secret, whose twin passes`, async () => {
      const key = world[name]
      const honest = await sign(key, world.claims())
      expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
      for (const [form, secret] of Object.entries(await publicKeyForms(key))) {
        for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
          const token = await signHmac(secret, world.claims(), { alg, header: { kid: key.kid } })
          const outcomes = await world.harness.run(token)
          expect(outcomes.core.code, `${form} ${alg}`).toBe('invalid_token')
          expectRefused(outcomes, { reason: 'alg_not_allowed' }, token, world.log.raw)
        }
      }
    })
  }

  it('refuses an HMAC token signed with the public key of a static-keys issuer', async () => {
    const claims = { ...world.claims(), iss: 'https://static.test' }
    const honest = await sign(world.staticKey, claims)
    expectAccepted(await world.harness.run(honest), keyOf('https://static.test', 'alice'))
    const secret = await exportSPKI(world.staticKey.publicKey)
    const token = await signHmac(secret, claims, { header: { kid: world.staticKey.kid } })
    expectRefused(
      await world.harness.run(token),
      { reason: 'alg_not_allowed' },
      token,
      world.log.raw,
    )
  })

  it('refuses an HMAC token without kid, so that no key of the set is tried as a secret', async () => {
    const secret = await exportSPKI(world.rs.publicKey)
    const token = await signHmac(secret, world.claims())
    expectRefused(
      await world.harness.run(token),
      { reason: 'alg_not_allowed' },
      token,
      world.log.raw,
    )
    // The honest twin carries the kid of rs: without one, the set's two RSA keys make RS256 ambiguous.
    const twin = await sign(world.rs, world.claims())
    expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
  })

  it('refuses an RS256 token for the HMAC issuer, whose HS256 twin passes', async () => {
    const claims = { iss: HMAC_ISS, sub: 'alice', aud: 'api' }
    expectAccepted(
      await world.harness.run(await signHmac(SECRET, claims)),
      keyOf(HMAC_ISS, 'alice'),
    )
    const token = await sign(world.rs, claims, { header: { kid: undefined } })
    expectRefused(
      await world.harness.run(token),
      { reason: 'alg_not_allowed' },
      token,
      world.log.raw,
    )
  })

  it('refuses a token whose alg names another family than its key (ES256 on RSA, RS256 on EC, EdDSA on RSA)', async () => {
    const honest = await sign(world.rs, world.claims())
    const [, payload, signature] = honest.split('.') as [string, string, string]
    const cases: [string, string][] = [
      ['ES256', world.rs.kid],
      ['RS256', world.es.kid],
      ['EdDSA', world.rs.kid],
      ['ES384', world.es.kid],
      ['PS256', world.rs.kid],
    ]
    for (const [alg, kid] of cases) {
      const token = `${b64json({ alg, kid })}.${payload}.${signature}`
      // PS256 fits an RSA key whose JWK does not pin RS256... ours does, so every case is a mismatch.
      expectRefused(
        await world.harness.run(token),
        { reason: 'key_mismatch' },
        token,
        world.log.raw,
      )
    }
    expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
  })

  it('refuses a token signed PS256 with the trusted RSA key when the JWK pins RS256', async () => {
    const header = JSON.stringify({ alg: 'PS256', kid: world.rs.kid })
    const payload = JSON.stringify(world.claims({ exp: 4102444800 }))
    const token = signRaw(world.rs.privateKey, 'PS256', header, payload)
    expectRefused(await world.harness.run(token), { reason: 'key_mismatch' }, token, world.log.raw)
    const twinHeader = JSON.stringify({ alg: 'RS256', kid: world.rs.kid })
    const twin = signRaw(world.rs.privateKey, 'RS256', twinHeader, payload)
    expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
  })
})
