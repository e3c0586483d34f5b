/**
 * Forged and replayed signatures: payloads edited under an honest signature, re-signed by an
 * attacker, signatures stripped or mangled (including the ECDSA r = s = 0 "psychic signature",
 * CVE-2022-21449), an attacker IdP's own valid token naming a trusted issuer, and a trusted
 * token replayed to another audience (RFC 8725 s3.9).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAccepted, expectRefused, keyOf } from '../helpers/attacks.js'
import { createAttackWorld, type AttackWorld } from '../helpers/attacks-fixture.js'
import { b64json, sign } from '../helpers/keys.js'

let world: AttackWorld
let honest: string
let header: string
let payload: string
let signature: string

beforeAll(async () => {
  world = await createAttackWorld()
  honest = await sign(world.rs, world.claims({ scope: 'read' }))
  ;[header, payload, signature] = honest.split('.') as [string, string, string]
})
afterAll(async () => {
  await world.close()
})

function part(value: unknown): string {
  return b64json(value)
}

describe('signature forgery', () => {
  it('accepts the honest token', async () => {
    expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
  })

  it('refuses the honest signature over an edited payload (sub, scope, exp, aud)', async () => {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
      string,
      unknown
    >
    for (const edit of [
      { sub: 'admin' },
      { scope: 'read admin' },
      { exp: 4102444800 },
      { aud: ['api', 'admin'] },
    ]) {
      const token = `${header}.${part({ ...claims, ...edit })}.${signature}`
      expectRefused(
        await world.harness.run(token),
        { reason: 'bad_signature' },
        token,
        world.log.raw,
      )
    }
    // Twin: the unedited payload under the same signature.
    expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
  })

  it('refuses the honest signature under an edited header (kid of another trusted key)', async () => {
    const token = `${part({ alg: 'RS256', kid: world.rs2.kid })}.${payload}.${signature}`
    expectRefused(await world.harness.run(token), { reason: 'bad_signature' }, token, world.log.raw)
    // Twin: the same payload and signature under the unedited header (kid of the signing key).
    expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
  })

  it('refuses the same payload bytes re-encoded (whitespace added), since the signature covers raw bytes', async () => {
    const json = Buffer.from(payload, 'base64url').toString()
    const token = `${header}.${Buffer.from(` ${json} `).toString('base64url')}.${signature}`
    expectRefused(await world.harness.run(token), { reason: 'bad_signature' }, token, world.log.raw)
    // Twin: the original payload bytes under the same signature.
    expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
  })

  it('refuses claims re-signed by the attacker under the trusted kid', async () => {
    const token = await sign(world.evilTwin, world.claims({ scope: 'read' }))
    expectRefused(await world.harness.run(token), { reason: 'bad_signature' }, token, world.log.raw)
    // Twin: the same claims signed by the trusted key that owns the kid.
    const twin = await sign(world.rs, world.claims({ scope: 'read' }))
    expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
  })

  it('refuses claims signed by another trusted key than the one the kid names', async () => {
    const token = await sign(world.rs2, world.claims(), { header: { kid: world.rs.kid } })
    expectRefused(await world.harness.run(token), { reason: 'bad_signature' }, token, world.log.raw)
    // Twin: the same claims signed by the same key under its own kid.
    const twin = await sign(world.rs2, world.claims())
    expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
  })

  it('refuses a stripped signature: empty part, missing part, or missing dot', async () => {
    for (const token of [
      `${header}.${payload}.`,
      `${header}.${payload}`,
      `${header}${payload}${signature}`,
    ]) {
      expectRefused(await world.harness.run(token), { reason: 'malformed' }, token, world.log.raw)
    }
    // Twin: the same header and payload with the signature intact.
    expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
  })

  it('refuses a signature truncated, extended, zeroed, or with a flipped bit', async () => {
    const bytes = Buffer.from(signature, 'base64url')
    const flipped = Buffer.from(bytes)
    flipped[10] = (flipped[10] ?? 0) ^ 1
    const variants = [
      bytes.subarray(0, bytes.length - 1),
      Buffer.concat([bytes, Buffer.from([0])]),
      Buffer.alloc(bytes.length),
      flipped,
    ]
    for (const variant of variants) {
      const token = `${header}.${payload}.${variant.toString('base64url')}`
      expectRefused(
        await world.harness.run(token),
        { reason: 'bad_signature' },
        token,
        world.log.raw,
      )
    }
    // Twin: the same header and payload with the signature untouched.
    expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
  })

  it('refuses a signature in base64 with padding or in standard alphabet as malformed', async () => {
    const std = Buffer.from(signature, 'base64url').toString('base64')
    for (const token of [`${honest}==`, `${header}.${payload}.${std}`].filter((t) =>
      /[+/=]/.test(t),
    )) {
      expectRefused(await world.harness.run(token), { reason: 'malformed' }, token, world.log.raw)
    }
    // Twin: the same signature in unpadded base64url.
    expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
  })

  it('refuses the ECDSA psychic signature (r = s = 0) and a DER-encoded signature', async () => {
    const es = await sign(world.es, world.claims())
    expectAccepted(await world.harness.run(es), keyOf(world.iss, 'alice'))
    const [esHeader, esPayload, esSignature] = es.split('.') as [string, string, string]
    const raw = Buffer.from(esSignature, 'base64url')
    const der = toDer(raw)
    for (const forged of [Buffer.alloc(64), der]) {
      const token = `${esHeader}.${esPayload}.${forged.toString('base64url')}`
      expectRefused(
        await world.harness.run(token),
        { reason: 'bad_signature' },
        token,
        world.log.raw,
      )
    }
  })

  it('refuses an EdDSA signature over other bytes, and accepts its twin', async () => {
    const ed = await sign(world.ed, world.claims())
    expectAccepted(await world.harness.run(ed), keyOf(world.iss, 'alice'))
    const other = await sign(world.ed, world.claims({ sub: 'bob' }))
    const token = `${ed.split('.')[0]!}.${ed.split('.')[1]!}.${other.split('.')[2]!}`
    expectRefused(await world.harness.run(token), { reason: 'bad_signature' }, token, world.log.raw)
  })
})

describe('attacker identity provider', () => {
  it("refuses the attacker IdP's own valid token for its own issuer, fetching nothing", async () => {
    const token = await sign(world.evil, { ...world.claims(), iss: world.attacker.origin })
    expectRefused(
      await world.harness.run(token),
      { reason: 'untrusted_issuer' },
      token,
      world.log.raw,
    )
    // Twin: the same claims from the trusted issuer, signed by its key.
    const twin = await sign(world.rs, world.claims())
    expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
    expect(world.attacker.hits()).toBe(0)
  })

  it("refuses the attacker IdP's valid signature on a token whose iss names the trusted issuer", async () => {
    const ownKid = await sign(world.evil, world.claims())
    expectRefused(await world.harness.run(ownKid), { reason: 'unknown_kid' }, ownKid, world.log.raw)
    const stolenKid = await sign(world.evilTwin, world.claims())
    expectRefused(
      await world.harness.run(stolenKid),
      { reason: 'bad_signature' },
      stolenKid,
      world.log.raw,
    )
    // Twin: the same claims signed by the trusted issuer's own key.
    const twin = await sign(world.rs, world.claims())
    expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
    expect(world.attacker.hits()).toBe(0)
  })
})

describe('audience replay', () => {
  it('refuses a trusted token minted for another audience, and accepts its twin for ours', async () => {
    for (const aud of ['other-api', ['other-api', 'billing'], 'API', 'api ', ['']]) {
      const token = await sign(world.rs, world.claims({ aud }))
      expectRefused(
        await world.harness.run(token),
        { reason: 'audience_mismatch' },
        token,
        world.log.raw,
      )
    }
    const twin = await sign(world.rs, world.claims({ aud: ['other-api', 'api'] }))
    expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
  })

  it('refuses a token without aud', async () => {
    const token = await sign(world.rs, world.claims({ aud: undefined }))
    expectRefused(
      await world.harness.run(token),
      { reason: 'audience_mismatch' },
      token,
      world.log.raw,
    )
    // Twin: the same claims with our aud.
    const twin = await sign(world.rs, world.claims())
    expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
  })
})

/** ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` of a raw P-256 signature. */
function toDer(raw: Buffer): Buffer {
  const integer = (bytes: Buffer): Buffer => {
    let i = 0
    while (i < bytes.length - 1 && bytes[i] === 0) i++
    let body = bytes.subarray(i)
    if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body])
    return Buffer.concat([Buffer.from([0x02, body.length]), body])
  }
  const content = Buffer.concat([integer(raw.subarray(0, 32)), integer(raw.subarray(32))])
  return Buffer.concat([Buffer.from([0x30, content.length]), content])
}
