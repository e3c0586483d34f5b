import { beforeAll, describe, expect, it } from 'vitest'
import { createVerifier } from '../src/verifier.js'
import { decodeToken } from '../src/token.js'
import { createKey, jwks, sign, type TestKey } from '../../../test/helpers/keys.js'
import { captureLogger } from '../../../test/helpers/log.js'
import { expectRejection, invalidToken } from '../../../test/helpers/auth-error.js'

const ISS = 'https://spellings.test'
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
// The order of P-256, to make the high-S twin of an ES256 signature (s' = n - s).
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n

/** Every other spelling of `part` whose last character differs only in its unused low bits. */
function otherSpellings(part: string): string[] {
  const unused = part.length % 4 === 2 ? 0b1111 : part.length % 4 === 3 ? 0b11 : 0
  const last = ALPHABET.indexOf(part.slice(-1))
  const spellings: string[] = []
  for (let bits = 1; bits <= unused; bits++) {
    spellings.push(part.slice(0, -1) + (ALPHABET[last | bits] as string))
  }
  return spellings
}

let rsa: TestKey
let ec: TestKey

beforeAll(async () => {
  ;[rsa, ec] = await Promise.all([
    createKey('RS256', { kid: 'rsa' }),
    createKey('ES256', { kid: 'ec' }),
  ])
})

function verifier() {
  return createVerifier({
    issuers: [{ issuer: ISS, audience: 'api', keys: jwks(rsa, ec) }],
    logger: captureLogger().logger,
  })
}

describe('one signed token has one spelling (issue 9, item 16)', () => {
  // Node's base64url decoder reads a UTF-16 code unit by its low byte (U+0141 as `A`) and takes
  // `+` and `/` as `-` and `_`: each gives the signature a twin that decodes to the same bytes.
  // The round trip of token.ts refuses them (issue 15 replaced the alphabet regex with it).
  it('refuses a signature spelled with a two-byte look-alike, `+` or `/`; the honest one passes', async () => {
    const v = verifier()
    const token = await sign(rsa, { iss: ISS, sub: 'alice', aud: 'api' })
    const [header, payload, signature] = token.split('.') as [string, string, string]
    const at = signature.search(/[A-Z]/)
    const code = signature.charCodeAt(at)
    const twins = [
      String.fromCharCode(0x100 | code), // same low byte: U+0141 for `A`
    ]
    for (const [from, to] of [
      ['-', '+'],
      ['_', '/'],
    ] as const) {
      if (signature.includes(from)) twins.push(signature.replace(from, to))
    }
    const spellings = [
      signature.slice(0, at) + (twins[0] as string) + signature.slice(at + 1),
      ...twins.slice(1),
    ]
    for (const spelling of spellings) {
      // The same bytes, as Node's decoder reads them: the twin would verify if it got through.
      expect(Buffer.from(spelling, 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(
        true,
      )
      const twin = `${header}.${payload}.${spelling}`
      await expectRejection(v.verify(twin), invalidToken('malformed'), twin)
    }
    await expect(v.verify(token)).resolves.toMatchObject({ subject: 'alice' })
  })

  it('refuses the 15 other spellings of an RS256 signature as malformed; the honest one passes', async () => {
    const v = verifier()
    const token = await sign(rsa, { iss: ISS, sub: 'alice', aud: 'api' })
    const [header, payload, signature] = token.split('.') as [string, string, string]
    // 256 bytes: 342 characters, whose last one carries 4 unused bits.
    expect(signature.length % 4).toBe(2)
    const others = otherSpellings(signature)
    expect(others).toHaveLength(15)
    for (const spelling of others) {
      // Node decodes every one of them to the very same signature bytes...
      expect(Buffer.from(spelling, 'base64url')).toEqual(Buffer.from(signature, 'base64url'))
      const forged = `${header}.${payload}.${spelling}`
      // ...and trustgate refuses them, before and after the honest one is cached.
      await expectRejection(v.verify(forged), invalidToken('malformed'), forged)
    }
    expect((await v.verify(token)).subject).toBe('alice')
    for (const spelling of others) {
      const forged = `${header}.${payload}.${spelling}`
      await expectRejection(v.verify(forged), invalidToken('malformed'), forged)
    }
  })

  it('refuses non-canonical header and payload parts too', async () => {
    const v = verifier()
    // Pad the claims until each part leaves unused bits in its last character.
    let token = ''
    for (let pad = ''; ; pad += 'x') {
      token = await sign(rsa, { iss: ISS, sub: 'alice', aud: 'api', pad }, { header: { pad } })
      const [h, p] = token.split('.') as [string, string]
      if (h.length % 4 >= 2 && p.length % 4 >= 2) break
    }
    const [header, payload, signature] = token.split('.') as [string, string, string]
    for (const spelling of otherSpellings(header)) {
      const forged = `${spelling}.${payload}.${signature}`
      expect(decodeToken(forged, 16384)).toBeUndefined()
      await expectRejection(v.verify(forged), invalidToken('malformed'), forged)
    }
    for (const spelling of otherSpellings(payload)) {
      const forged = `${header}.${spelling}.${signature}`
      expect(decodeToken(forged, 16384)).toBeUndefined()
      await expectRejection(v.verify(forged), invalidToken('malformed'), forged)
    }
    expect(decodeToken(token, 16384)).toBeDefined()
    expect((await v.verify(token)).subject).toBe('alice')
  })

  it('accepts a high-S ECDSA signature: the standards allow it and real signers make it', async () => {
    const v = verifier()
    const token = await sign(ec, { iss: ISS, sub: 'alice', aud: 'api' })
    const [header, payload, signature] = token.split('.') as [string, string, string]
    const bytes = Buffer.from(signature, 'base64url')
    const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`)
    const flipped = Buffer.concat([
      bytes.subarray(0, 32),
      Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex'),
    ])
    const twin = `${header}.${payload}.${flipped.toString('base64url')}`
    expect(twin).not.toBe(token)
    expect((await v.verify(token)).subject).toBe('alice')
    expect((await v.verify(twin)).subject).toBe('alice')
  })
})
