import { beforeAll, describe, expect, it } from 'vitest'
import { createSign, generateKeyPairSync, randomBytes } from 'node:crypto'
import {
  DEFAULT_ALGORITHMS,
  DEFAULT_HMAC_ALGORITHMS,
  isAlgorithm,
  isHmac,
  keyFits,
  SUPPORTED_ALGORITHMS,
  verifySignature,
  type Algorithm,
} from '../src/algorithms.js'
import { importJwk, importSecret, type VerificationKey } from '../src/jwk.js'
import {
  createKey,
  sign,
  signHmac,
  ASYMMETRIC_ALGS,
  type AsymmetricAlg,
  type TestKey,
} from '../../../test/helpers/keys.js'

function imported(key: TestKey): VerificationKey {
  const result = importJwk(key.jwk)
  if (typeof result === 'string') throw new Error(`cannot import: ${result}`)
  return result
}

function parts(token: string): { input: Buffer; signature: Uint8Array } {
  const [h, p, s] = token.split('.') as [string, string, string]
  return { input: Buffer.from(`${h}.${p}`), signature: Buffer.from(s, 'base64url') }
}

describe('algorithm names', () => {
  it('knows every supported algorithm and never none', () => {
    for (const alg of SUPPORTED_ALGORITHMS) expect(isAlgorithm(alg)).toBe(true)
    for (const alg of ['none', 'None', 'NONE', 'rs256', 'HS1', '', 42, undefined]) {
      expect(isAlgorithm(alg)).toBe(false)
    }
  })

  it('keeps HMAC out of the default allowlist and only HMAC in the secret allowlist', () => {
    expect(DEFAULT_ALGORITHMS.some((alg) => isHmac(alg))).toBe(false)
    expect(DEFAULT_HMAC_ALGORITHMS.every((alg) => isHmac(alg))).toBe(true)
    expect(Object.isFrozen(DEFAULT_ALGORITHMS)).toBe(true)
  })
})

describe('signature verification with real keys', () => {
  const algs = ASYMMETRIC_ALGS
  const keys = new Map<AsymmetricAlg, TestKey>()

  beforeAll(async () => {
    for (const alg of algs) keys.set(alg, await createKey(alg))
  })

  for (const alg of algs) {
    it(`verifies an ${alg} signature made by jose and refuses it once the payload is changed`, async () => {
      const key = keys.get(alg) as TestKey
      const vkey = imported(key)
      expect(keyFits(vkey, alg)).toBe(true)
      const token = await sign(key, { sub: 'alice' })
      const { input, signature } = parts(token)
      expect(verifySignature(alg, vkey, input, signature)).toBe(true)
      const forged = Buffer.from(
        `${input.toString().split('.')[0] ?? ''}.${Buffer.from('{"sub":"mallory"}').toString('base64url')}`,
      )
      expect(verifySignature(alg, vkey, forged, signature)).toBe(false)
    })
  }

  it('verifies an HS256/384/512 signature with the configured secret and refuses another secret', async () => {
    const secret = 'a'.repeat(32)
    const key = importSecret(secret)
    const other = importSecret(new TextEncoder().encode('b'.repeat(32)))
    for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
      expect(keyFits(key, alg)).toBe(true)
      const { input, signature } = parts(await signHmac(secret, { sub: 'a' }, { alg }))
      expect(verifySignature(alg, key, input, signature)).toBe(true)
      expect(verifySignature(alg, other, input, signature)).toBe(false)
      expect(verifySignature(alg, key, input, signature.subarray(1))).toBe(false)
    }
  })

  it('refuses an ES256 signature in DER form: JWS wants R || S (RFC 7518 s3.4)', async () => {
    const key = keys.get('ES256') as TestKey
    const token = await sign(key, { sub: 'a' })
    const { input } = parts(token)
    const der = createSign('sha256')
      .update(input)
      .sign(key.privateKey as never)
    expect(der.length).not.toBe(64)
    expect(verifySignature('ES256', imported(key), input, der)).toBe(false)
  })
})

describe('keyFits', () => {
  let rsa: VerificationKey
  let rsaNoAlg: VerificationKey
  let ec: VerificationKey
  let ed: VerificationKey

  beforeAll(async () => {
    rsa = imported(await createKey('RS256'))
    rsaNoAlg = imported(await createKey('RS256', { jwkAlg: false }))
    ec = imported(await createKey('ES256'))
    ed = imported(await createKey('EdDSA'))
  })

  it('binds a JWK that names its alg to that alg only', () => {
    expect(keyFits(rsa, 'RS256')).toBe(true)
    expect(keyFits(rsa, 'PS256')).toBe(false)
    expect(keyFits(rsa, 'RS512')).toBe(false)
  })

  it('lets a JWK without alg serve every algorithm of its key type', () => {
    for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as Algorithm[]) {
      expect(keyFits(rsaNoAlg, alg)).toBe(true)
    }
    expect(keyFits(rsaNoAlg, 'ES256')).toBe(false)
  })

  it('requires the curve of the EC algorithm', () => {
    expect(keyFits(ec, 'ES256')).toBe(true)
    expect(keyFits({ ...ec, alg: undefined }, 'ES384')).toBe(false)
    expect(keyFits(ec, 'RS256')).toBe(false)
  })

  it('fits EdDSA to an OKP key and never an HMAC algorithm to a public key', () => {
    expect(keyFits(ed, 'EdDSA')).toBe(true)
    expect(keyFits({ ...ed, curve: undefined }, 'EdDSA')).toBe(false)
    for (const key of [rsa, rsaNoAlg, ec, ed]) expect(keyFits(key, 'HS256')).toBe(false)
    expect(keyFits(importSecret('s'.repeat(32)), 'RS256')).toBe(false)
  })
})

describe('importJwk', () => {
  let rsa: TestKey

  beforeAll(async () => {
    rsa = await createKey('RS256')
  })

  it('imports a public JWK with its kid, alg and curve', async () => {
    const ec = await createKey('ES256', { kid: 'ec-1' })
    const key = imported(ec)
    expect(key).toMatchObject({ kid: 'ec-1', family: 'EC', curve: 'P-256', alg: 'ES256' })
    expect(key.keyObject.type).toBe('public')
  })

  it('refuses a key that is not an object', () => {
    expect(importJwk(null)).toBe('not_an_object')
    expect(importJwk([])).toBe('not_an_object')
    expect(importJwk('key')).toBe('not_an_object')
  })

  it('refuses symmetric and unknown key types', () => {
    expect(importJwk({ kty: 'oct', k: 'c2VjcmV0' })).toBe('symmetric_key')
    expect(importJwk({ kty: 'DSA' })).toBe('unsupported_kty')
    expect(importJwk({})).toBe('unsupported_kty')
  })

  it('refuses a key meant for encryption, by use or key_ops', () => {
    expect(importJwk({ ...rsa.jwk, use: 'enc' })).toBe('not_for_signatures')
    expect(importJwk({ ...rsa.jwk, key_ops: ['encrypt'] })).toBe('not_for_signatures')
    expect(importJwk({ ...rsa.jwk, key_ops: 'verify' })).toBe('not_for_signatures')
    expect(typeof importJwk({ ...rsa.jwk, key_ops: ['verify'] })).toBe('object')
  })

  it('refuses a kid or alg that is not a string', () => {
    expect(importJwk({ ...rsa.jwk, kid: 7 })).toBe('invalid_key')
    expect(importJwk({ ...rsa.jwk, alg: ['RS256'] })).toBe('invalid_key')
  })

  it('refuses unsupported curves', async () => {
    const ec = await createKey('ES256')
    expect(importJwk({ ...ec.jwk, crv: 'secp256k1' })).toBe('unsupported_curve')
    const ed = await createKey('EdDSA')
    expect(importJwk({ ...ed.jwk, crv: 'X25519' })).toBe('unsupported_curve')
    expect(importJwk({ ...ed.jwk, crv: undefined })).toBe('unsupported_curve')
  })

  it('refuses key material that does not parse', () => {
    expect(importJwk({ kty: 'RSA', e: 'AQAB' })).toBe('invalid_key')
    expect(importJwk({ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' })).toBe('invalid_key')
  })

  it('refuses an RSA key shorter than 2048 bits', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'weak', alg: 'RS256', use: 'sig' }
    expect(importJwk(jwk)).toBe('weak_rsa_key')
    const strong = await createKey('RS256', { modulusLength: 2048 })
    expect(typeof importJwk(strong.jwk)).toBe('object')
  })

  it('imports only the public half of a JWK that carries private parameters', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const key = importJwk({ ...privateKey.export({ format: 'jwk' }), kid: 'leaky' })
    expect(typeof key).toBe('object')
    expect((key as VerificationKey).keyObject.type).toBe('public')
  })

  it('gives the same id to the same key and different ids to different keys', async () => {
    const other = await createKey('RS256')
    expect(imported(rsa).id).toBe(imported(rsa).id)
    expect(imported(rsa).id).not.toBe(imported(other).id)
    expect(imported(rsa).id).not.toBe(
      (importJwk({ ...rsa.jwk, kid: 'renamed' }) as VerificationKey).id,
    )
  })
})

describe('RSA key cost bounds (issue 9, item 7)', () => {
  // A big number as base64url, with its top bit set, so that it has exactly `bits` bits.
  function bigNumber(bits: number): string {
    const bytes = randomBytes(Math.ceil(bits / 8))
    bytes[0] = (bytes[0]! | 0x80) >> (bytes.length * 8 - bits)
    bytes[bytes.length - 1]! |= 1
    return bytes.toString('base64url')
  }
  let rsa: TestKey

  beforeAll(async () => {
    rsa = await createKey('RS256')
  })

  // Fails on main, which imported both keys.
  it('skips an RSA key with a public exponent over 2^32, and keeps exponents up to 2^32', () => {
    expect(importJwk({ ...rsa.jwk, e: bigNumber(3072) })).toBe('large_rsa_exponent')
    expect(
      importJwk({ ...rsa.jwk, e: Buffer.from('0100000001', 'hex').toString('base64url') }),
    ).toBe('large_rsa_exponent')
    // The honest twins: 2^32 itself, and the usual 65537.
    expect(
      importJwk({ ...rsa.jwk, e: Buffer.from('0100000000', 'hex').toString('base64url') }),
    ).toMatchObject({
      family: 'RSA',
    })
    expect(imported(rsa).family).toBe('RSA')
  })

  // Fails on main, which imported the 8200-bit key.
  it('skips an RSA modulus over 8192 bits, and keeps one of exactly 8192 bits', () => {
    expect(importJwk({ ...rsa.jwk, n: bigNumber(8200) })).toBe('large_rsa_key')
    const largest = importJwk({ ...rsa.jwk, n: bigNumber(8192) })
    expect(largest).toMatchObject({ family: 'RSA' })
    expect((largest as VerificationKey).keyObject.asymmetricKeyDetails?.modulusLength).toBe(8192)
  })
})
