/**
 * Tokens whose structure or JSON is hostile: a JWE (five parts), a nested JWT, duplicate JSON
 * members, numbers out of range in time claims, members of the wrong type, `__proto__`, and an
 * oversized token. Hand-built JSON text is signed as is with {@link signRaw}, so that only the one
 * oddity differs from the honest twin.
 */
import { createPublicKey, KeyObject } from 'node:crypto'
import { CompactEncrypt, CompactSign } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAccepted, expectRefused, keyOf, signRaw } from '../helpers/attacks.js'
import { createAttackWorld, type AttackWorld } from '../helpers/attacks-fixture.js'
import { b64json, nowSeconds, sign } from '../helpers/keys.js'

let world: AttackWorld
let header: string
let exp: number

beforeAll(async () => {
  world = await createAttackWorld()
  header = JSON.stringify({ alg: 'RS256', kid: world.rs.kid })
  exp = nowSeconds() + 600
})
afterAll(async () => {
  await world.close()
})

/** The claims of the honest twin as JSON text, with `extra` spliced in as raw JSON members. */
function payloadJson(extra = ''): string {
  const base = `"iss":${JSON.stringify(world.iss)},"sub":"alice","aud":"api","exp":${String(exp)}`
  return `{${base}${extra === '' ? '' : `,${extra}`}}`
}

function signed(payload: string, head: string = header): string {
  return signRaw(world.rs.privateKey, 'RS256', head, payload)
}

describe('JWE and nested tokens', () => {
  it('accepts the honest twin', async () => {
    expectAccepted(await world.harness.run(signed(payloadJson())), keyOf(world.iss, 'alice'))
  })

  it('refuses a real JWE (five parts) encrypted to the trusted RSA key as malformed', async () => {
    // The RS256 signing key's public half, as a KeyObject that RSA-OAEP may use too.
    const publicKey =
      world.rs.publicKey instanceof KeyObject
        ? world.rs.publicKey
        : KeyObject.from(world.rs.publicKey)
    const encryptKey = createPublicKey({ key: publicKey.export({ format: 'jwk' }), format: 'jwk' })
    const jwe = await new CompactEncrypt(new TextEncoder().encode(payloadJson()))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: world.rs.kid })
      .encrypt(encryptKey)
    expect(jwe.split('.')).toHaveLength(5)
    expectRefused(await world.harness.run(jwe), { reason: 'malformed' }, jwe, world.log.raw)
    // The twin: the same claims signed (not encrypted) by the trusted key.
    expectAccepted(await world.harness.run(signed(payloadJson())), keyOf(world.iss, 'alice'))
  })

  it('refuses a JWS whose payload is a nested JWT (cty JWT) as malformed', async () => {
    const inner = signed(payloadJson())
    const outer = await new CompactSign(new TextEncoder().encode(inner))
      .setProtectedHeader({ alg: 'RS256', kid: world.rs.kid, cty: 'JWT' })
      .sign(world.rs.privateKey)
    expectRefused(await world.harness.run(outer), { reason: 'malformed' }, outer, world.log.raw)
    // The twin: the inner token itself, unwrapped.
    expectAccepted(await world.harness.run(inner), keyOf(world.iss, 'alice'))
  })

  it('refuses a JWS whose payload is a JSON string, array, number or null', async () => {
    for (const payload of ['"alice"', '[1,2]', '42', 'null', 'true']) {
      const token = signed(payload)
      expectRefused(await world.harness.run(token), { reason: 'malformed' }, token, world.log.raw)
    }
    // No honest issuer signs a non-object payload: the nearest twin signs the claims object.
    expectAccepted(await world.harness.run(signed(payloadJson())), keyOf(world.iss, 'alice'))
  })

  it('refuses a header that is an array, null, a string or invalid UTF-8', async () => {
    const body = Buffer.from(payloadJson()).toString('base64url')
    const heads = ['[]', 'null', '"RS256"', '{"alg":"RS256"']
      .map((h) => Buffer.from(h).toString('base64url'))
      .concat(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64url'))
    for (const head of heads) {
      const token = `${head}.${body}.c2lnbmF0dXJlLWJ5dGVzLWhlcmU`
      expectRefused(await world.harness.run(token), { reason: 'malformed' }, token, world.log.raw)
    }
    // No honest issuer signs such a header: the nearest twin has the object header and same body.
    expectAccepted(await world.harness.run(signed(payloadJson())), keyOf(world.iss, 'alice'))
  })

  it('refuses a token one character over maxTokenLength before any decoding', async () => {
    const padding = 'x'.repeat(16384)
    const token = signed(payloadJson(`"pad":"${padding}"`))
    expect(token.length).toBeGreaterThan(16384)
    const outcomes = await world.harness.run(token)
    expect(outcomes.core.reason).toBe('malformed')
    expect(outcomes.fastify).toMatchObject({ status: 401, body: outcomes.core.body })
    // Over a real socket Node refuses the header first (--max-http-header-size, 16 KiB): 431.
    expect(outcomes.express.status).toBe(431)
  })
})

describe('duplicate JSON members', () => {
  // RFC 7515 s4: a parser must reject duplicates or keep the lexically last one. trustgate keeps
  // the last (JSON.parse), consistently for every check; the signature covers the raw bytes.

  it('takes the last alg: none after RS256 is refused, whatever the signature', async () => {
    const honest = signed(payloadJson())
    expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
    const honestSig = honest.split('.')[2]!
    const head = '{"alg":"RS256","alg":"none","kid":"' + world.rs.kid + '"}'
    for (const sig of [honestSig, '']) {
      const token = `${Buffer.from(head).toString('base64url')}.${Buffer.from(payloadJson()).toString('base64url')}.${sig}`
      const reason = sig === '' ? 'malformed' : 'alg_not_allowed'
      expectRefused(await world.harness.run(token), { reason }, token, world.log.raw)
    }
  })

  it('refuses the honest signature moved under a header with duplicate alg (none, then RS256)', async () => {
    const honest = signed(payloadJson())
    expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
    const honestSig = honest.split('.')[2]!
    const head = '{"alg":"none","alg":"RS256","kid":"' + world.rs.kid + '"}'
    const token = `${Buffer.from(head).toString('base64url')}.${Buffer.from(payloadJson()).toString('base64url')}.${honestSig}`
    expectRefused(await world.harness.run(token), { reason: 'bad_signature' }, token, world.log.raw)
  })

  it('accepts a duplicate alg header only when the trusted key signed those very bytes', async () => {
    // The issuer vouched for these bytes; the last alg (RS256) is the one checked and used.
    const head = '{"alg":"none","alg":"RS256","kid":"' + world.rs.kid + '"}'
    expectAccepted(await world.harness.run(signed(payloadJson(), head)), keyOf(world.iss, 'alice'))
  })

  it('refuses a duplicate sub appended under the honest signature', async () => {
    const honest = signed(payloadJson())
    const [h, , s] = honest.split('.') as [string, string, string]
    const token = `${h}.${Buffer.from(payloadJson('"sub":"admin"')).toString('base64url')}.${s}`
    expectRefused(await world.harness.run(token), { reason: 'bad_signature' }, token, world.log.raw)
    expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
  })

  it('reads a duplicate sub signed by the issuer as its last value, the same for every check', async () => {
    const token = signed(payloadJson('"sub":"admin"'))
    expectAccepted(await world.harness.run(token), keyOf(world.iss, 'admin'))
  })

  it('refuses a signed payload whose last iss is untrusted, even though the first is trusted', async () => {
    const token = signed(payloadJson('"iss":"https://attacker.test"'))
    expectRefused(
      await world.harness.run(token),
      { reason: 'untrusted_issuer' },
      token,
      world.log.raw,
    )
    // The twin: the same signed payload without the appended iss.
    expectAccepted(await world.harness.run(signed(payloadJson())), keyOf(world.iss, 'alice'))
  })

  it('refuses an attacker-signed payload whose last iss is trusted', async () => {
    const payload = `{"iss":"https://attacker.test","iss":${JSON.stringify(world.iss)},"sub":"alice","aud":"api","exp":${String(exp)}}`
    const token = signRaw(world.evilTwin.privateKey, 'RS256', header, payload)
    expectRefused(await world.harness.run(token), { reason: 'bad_signature' }, token, world.log.raw)
    // The twin: the same bytes signed by the trusted key; the last iss is the trusted one.
    const twin = signRaw(world.rs.privateKey, 'RS256', header, payload)
    expectAccepted(await world.harness.run(twin), keyOf(world.iss, 'alice'))
  })
})

describe('time claims out of range', () => {
  const cases: [string, string, string][] = [
    ['exp 1e400 (Infinity)', '"exp":1e400', 'invalid_claim'],
    ['exp -1e400', '"exp":-1e400', 'invalid_claim'],
    ['exp 1e308, beyond any Date', '"exp":1e308', 'invalid_claim'],
    ['exp one second beyond the Date range', '"exp":8640000000001', 'invalid_claim'],
    ['exp negative', '"exp":-1', 'expired'],
    ['exp zero', '"exp":0', 'expired'],
    ['exp as a string', '"exp":"4102444800"', 'invalid_claim'],
    ['exp null', '"exp":null', 'invalid_claim'],
    ['exp true', '"exp":true', 'invalid_claim'],
    ['exp an array', '"exp":[4102444800]', 'invalid_claim'],
    ['nbf 1e400', '"nbf":1e400', 'invalid_claim'],
    ['nbf -1e400', '"nbf":-1e400', 'invalid_claim'],
    ['nbf far future', '"nbf":4102444800', 'not_yet_valid'],
    ['nbf as a string', '"nbf":"0"', 'invalid_claim'],
    ['iat 1e400', '"iat":1e400', 'invalid_claim'],
    ['iat in the future', '"iat":4102444800', 'issued_in_future'],
    ['iat as a string', '"iat":"0"', 'invalid_claim'],
  ]
  for (const [name, member, reason] of cases) {
    it(`refuses ${name} as ${reason}`, async () => {
      // The duplicate `exp` (last wins) replaces the honest twin's.
      const token = signed(payloadJson(member))
      expectRefused(await world.harness.run(token), { reason }, token, world.log.raw)
      expectAccepted(await world.harness.run(signed(payloadJson())), keyOf(world.iss, 'alice'))
    })
  }

  it('accepts exp at the end of the Date range, with a valid expiresAt', async () => {
    const token = signed(payloadJson('"exp":8640000000000'))
    expectAccepted(await world.harness.run(token), keyOf(world.iss, 'alice'))
    const principal = await world.harness.core.verify(token)
    expect(principal.expiresAt?.toISOString()).toBe('+275760-09-13T00:00:00.000Z')
  })

  it('accepts negative and zero nbf and iat, which are merely in the past', async () => {
    const token = signed(payloadJson('"nbf":-1,"iat":0'))
    expectAccepted(await world.harness.run(token), keyOf(world.iss, 'alice'))
  })
})

describe('members of the wrong type', () => {
  const cases: [string, string, string][] = [
    ['iss a number', '"iss":1', 'untrusted_issuer'],
    ['iss an array of the trusted issuer', 'ISS_ARRAY', 'untrusted_issuer'],
    ['iss null', '"iss":null', 'untrusted_issuer'],
    ['sub a number', '"sub":1', 'invalid_claim'],
    ['sub an object', '"sub":{"id":"alice"}', 'invalid_claim'],
    ['sub an array', '"sub":["alice"]', 'invalid_claim'],
    ['sub null', '"sub":null', 'invalid_claim'],
    ['sub empty', '"sub":""', 'missing_subject'],
    ['aud a number', '"aud":1', 'invalid_claim'],
    ['aud an object', '"aud":{"api":true}', 'invalid_claim'],
    ['aud with a non-string member', '"aud":["api",1]', 'invalid_claim'],
    ['aud an empty array', '"aud":[]', 'audience_mismatch'],
    ['aud null', '"aud":null', 'invalid_claim'],
  ]
  for (const [name, member, reason] of cases) {
    it(`refuses ${name} as ${reason}`, async () => {
      const raw = member === 'ISS_ARRAY' ? `"iss":[${JSON.stringify(world.iss)}]` : member
      const token = signed(payloadJson(raw))
      expectRefused(await world.harness.run(token), { reason }, token, world.log.raw)
      // The twin: the same payload without the member of the wrong type.
      expectAccepted(await world.harness.run(signed(payloadJson())), keyOf(world.iss, 'alice'))
    })
  }

  it('ignores scope and scp of the wrong type instead of granting anything', async () => {
    const token = signed(payloadJson('"scope":{"admin":true},"scp":"admin"'))
    const outcomes = await world.harness.run(token)
    expectAccepted(outcomes, keyOf(world.iss, 'alice'))
    const principal = await world.harness.core.verify(token)
    expect(principal.scopes).toEqual(['admin'])
  })

  it('keeps a __proto__ claim as plain data: no prototype pollution, principal frozen', async () => {
    const token = signed(
      payloadJson('"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}'),
    )
    expectAccepted(await world.harness.run(token), keyOf(world.iss, 'alice'))
    const principal = await world.harness.core.verify(token)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype.hasOwnProperty.call(principal.claims, '__proto__')).toBe(true)
    expect(Object.isFrozen(principal.claims)).toBe(true)
  })

  it('handles a deeply nested claim without exhausting the stack', async () => {
    const deep = '['.repeat(3000) + ']'.repeat(3000)
    const token = signed(payloadJson(`"deep":${deep}`))
    expectAccepted(await world.harness.run(token), keyOf(world.iss, 'alice'))
  })

  it('refuses a header with a non-ASCII alg look-alike', async () => {
    const honest = await sign(world.rs, world.claims())
    const [, p, s] = honest.split('.') as [string, string, string]
    const token = `${b64json({ alg: 'RS256\u200b', kid: world.rs.kid })}.${p}.${s}`
    expectRefused(
      await world.harness.run(token),
      { reason: 'alg_not_allowed' },
      token,
      world.log.raw,
    )
    expectAccepted(await world.harness.run(honest), keyOf(world.iss, 'alice'))
  })
})
