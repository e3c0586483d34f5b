import { execFileSync } from 'node:child_process'
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  X509Certificate,
  type KeyObject,
} from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { IssuerConfig } from '../src/issuer-config.js'
import type { VerifierOptions } from '../src/verifier-options.js'
import { createVerifier } from '../src/verifier.js'
import { describeKeyMaterial } from '../src/public-key.js'
import { captureLogger } from '../../../test/helpers/log.js'
import { expectRejection, invalidToken } from '../../../test/helpers/auth-error.js'

const ISS = 'https://rsa.example'
const { logger } = captureLogger()

let rsa: { publicKey: KeyObject; privateKey: KeyObject }
let spkiPem: string
let dir: string
let cert: { pem: string; privateKey: KeyObject }

beforeAll(() => {
  rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  spkiPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString()
  // A real X.509 certificate, as a passport-jwt user copies it from an IdP's metadata.
  dir = mkdtempSync(join(tmpdir(), 'trustgate-cert-'))
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=trustgate test',
    ],
    { stdio: 'ignore' },
  )
  cert = {
    pem: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    privateKey: createPrivateKey(readFileSync(join(dir, 'key.pem'))),
  }
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

function token(
  alg: string,
  key: KeyObject | Uint8Array,
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ iss: ISS, sub: 'alice', aud: 'api', iat: now, exp: now + 600 })
    .setProtectedHeader({ alg, ...header })
    .sign(key)
}

function build(issuer: Record<string, unknown>, options: Partial<VerifierOptions> = {}) {
  return () =>
    createVerifier({
      logger,
      ...options,
      issuers: [{ issuer: ISS, audience: 'api', ...issuer }],
    })
}

describe('a public key given as secret (issue 9, item 1)', () => {
  it('refuses a PEM public key as secret, so a token forged with HS256 over the PEM can never be accepted; the honest twin with publicKey verifies RS256', async () => {
    // The forgery: HS256 keyed with the PEM text, which anyone can download from the issuer.
    const forged = await token('HS256', new TextEncoder().encode(spkiPem))
    expect(build({ secret: spkiPem })).toThrow(
      /^trustgate: issuers\[0\]\.secret is a PEM block, not an HMAC secret: .*publicKey instead$/,
    )
    // The honest twin: the same PEM as publicKey verifies the issuer's RS256 token...
    const honest = createVerifier({
      logger,
      issuers: [{ issuer: ISS, audience: 'api', publicKey: spkiPem }],
    })
    const signed = await token('RS256', rsa.privateKey)
    expect((await honest.verify(signed)).subject).toBe('alice')
    // ...and the forged HS256 token gets nowhere with it.
    await expectRejection(honest.verify(forged), invalidToken('alg_not_allowed'), forged)
  })

  it('refuses every form of key material as secret, naming secret and pointing at publicKey', () => {
    const pkcs1 = rsa.publicKey.export({ type: 'pkcs1', format: 'pem' })
    const der = rsa.publicKey.export({ type: 'spki', format: 'der' })
    const jwk = rsa.publicKey.export({ format: 'jwk' })
    const privatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' })
    const forms: [string, unknown][] = [
      ['SPKI PEM', spkiPem],
      ['SPKI PEM with escaped newlines, as in an env file', spkiPem.replace(/\n/g, '\\n')],
      ['SPKI PEM with leading spaces', `  ${spkiPem}`],
      ['PKCS#1 PEM', pkcs1],
      ['private key PEM', privatePem],
      ['certificate PEM', cert.pem],
      ['PEM as bytes', Buffer.from(spkiPem)],
      ['PEM as a Uint8Array', new TextEncoder().encode(spkiPem)],
      ['SPKI DER bytes', der],
      ['PEM body without armour', der.toString('base64')],
      ['PEM body with line breaks', der.toString('base64').replace(/(.{64})/g, '$1\n')],
      ['JWK object', jwk],
      ['JWK JSON text', JSON.stringify(jwk)],
      ['JWK JSON text as bytes', Buffer.from(JSON.stringify({ ...jwk, kid: 'k' }))],
      ['JWK Set', { keys: [jwk] }],
      ['public KeyObject', rsa.publicKey],
      ['private KeyObject', rsa.privateKey],
      ['X509Certificate', new X509Certificate(cert.pem)],
    ]
    for (const [name, secret] of forms) {
      expect(describeKeyMaterial(secret), name).toBeDefined()
      expect(build({ secret }), name).toThrow(
        /^trustgate: issuers\[0\]\.secret is .*not an HMAC secret.*publicKey/,
      )
    }
  })

  it('accepts ordinary secrets, base64 ones included (the honest twins)', () => {
    const secrets: unknown[] = [
      's'.repeat(32),
      randomBytes(48).toString('base64'),
      randomBytes(64).toString('base64url'),
      randomBytes(32).toString('hex'),
      randomBytes(32),
      new Uint8Array(randomBytes(64)),
      '{"not":"a key","but":"a JSON-looking secret"}',
    ]
    for (const secret of secrets) {
      expect(describeKeyMaterial(secret)).toBeUndefined()
      expect(build({ secret })).not.toThrow()
    }
  })
})

describe('the publicKey key source', () => {
  it('verifies with an SPKI PEM, a public KeyObject, a public JWK and a certificate, whatever kid the token names', async () => {
    const rs = await token('RS256', rsa.privateKey, { kid: 'rotating-kid' })
    for (const publicKey of [
      spkiPem,
      rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      rsa.publicKey,
      rsa.publicKey.export({ format: 'jwk' }),
    ]) {
      const verifier = createVerifier({
        logger,
        issuers: [{ issuer: ISS, audience: 'api', publicKey }],
      })
      expect((await verifier.verify(rs)).subject).toBe('alice')
    }
    const es = await token('ES256', cert.privateKey)
    for (const publicKey of [cert.pem, new X509Certificate(cert.pem)]) {
      const verifier = createVerifier({
        logger,
        issuers: [{ issuer: ISS, audience: 'api', publicKey }],
      })
      expect((await verifier.verify(es)).subject).toBe('alice')
    }
  })

  it('defaults algorithms to those that fit the key type', async () => {
    const ed = generateKeyPairSync('ed25519')
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
    const verifierFor = (publicKey: NonNullable<IssuerConfig['publicKey']>) =>
      createVerifier({ logger, issuers: [{ issuer: ISS, audience: 'api', publicKey }] })
    // RSA: RS256-512 and PS256-512.
    const byRsa = verifierFor(spkiPem)
    for (const alg of ['RS256', 'RS512', 'PS256', 'PS384']) {
      expect((await byRsa.verify(await token(alg, rsa.privateKey))).subject).toBe('alice')
    }
    // EC P-384: ES384 only; an ES256 header over that key is not allowed for the issuer.
    const byP384 = verifierFor(p384.publicKey)
    expect((await byP384.verify(await token('ES384', p384.privateKey))).subject).toBe('alice')
    const rsOverEc = await token('RS256', rsa.privateKey)
    await expectRejection(byP384.verify(rsOverEc), invalidToken('alg_not_allowed'), rsOverEc)
    // Ed25519: EdDSA.
    const byEd = verifierFor(ed.publicKey.export({ format: 'jwk' }))
    expect((await byEd.verify(await token('EdDSA', ed.privateKey))).subject).toBe('alice')
    // A JWK that names its alg: that one only.
    const byRs384 = verifierFor({ ...rsa.publicKey.export({ format: 'jwk' }), alg: 'RS384' })
    const rs256 = await token('RS256', rsa.privateKey)
    await expectRejection(byRs384.verify(rs256), invalidToken('alg_not_allowed'), rs256)
    expect((await byRs384.verify(await token('RS384', rsa.privateKey))).subject).toBe('alice')
  })

  it('refuses algorithms that do not fit the key, HMAC included', () => {
    expect(build({ publicKey: spkiPem, algorithms: ['ES256'] })).toThrow(
      /^trustgate: issuers\[0\]\.algorithms\[0\] does not fit the publicKey: it verifies RS256, RS384, RS512, PS256, PS384, PS512$/,
    )
    expect(build({ publicKey: spkiPem, algorithms: ['HS256'] })).toThrow(
      /issuers\[0\]\.algorithms\[0\] is an HMAC algorithm/,
    )
    expect(build({ publicKey: spkiPem, algorithms: ['PS256'] })).not.toThrow()
  })

  it('refuses private keys, secret keys, weak RSA keys and things that are no key, naming publicKey', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey
    const x25519 = generateKeyPairSync('x25519').publicKey
    const rsaJwk = rsa.publicKey.export({ format: 'jwk' })
    const big = (bytes: number): string => {
      const value = randomBytes(bytes)
      value[0]! |= 0x80
      value[bytes - 1]! |= 1
      return value.toString('base64url')
    }
    const cases: [unknown, RegExp][] = [
      [rsa.privateKey, /is a private key/],
      [rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }), /is a private key/],
      [rsa.privateKey.export({ format: 'jwk' }), /is a private JWK/],
      [createPublicKey(rsa.privateKey).export({ format: 'jwk' }), /^$/],
      [weak, /is an RSA key under 2048 bits/],
      [weak.export({ type: 'spki', format: 'pem' }), /is an RSA key under 2048 bits/],
      // Issue 9, item 7: nor over 8192 bits, nor with an exponent over 2^32 (API.md "Next").
      [{ ...rsaJwk, n: big(1025) }, /is an RSA key over 8192 bits/],
      [{ ...rsaJwk, e: big(5) }, /is an RSA key with a public exponent over 2\^32/],
      [x25519, /has a curve/],
      [{ kty: 'oct', k: 'c2VjcmV0' }, /is a symmetric key: an HMAC key goes in secret/],
      [{ keys: [] }, /is a JWK Set: a set of keys goes in keys/],
      [{ ...rsa.publicKey.export({ format: 'jwk' }), use: 'enc' }, /is not a signature key/],
      ['-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----', /is not a PEM public/],
      [42, /must be a PEM string/],
    ]
    for (const [publicKey, message] of cases) {
      if (message.source === '^$') {
        expect(build({ publicKey })).not.toThrow()
        continue
      }
      expect(build({ publicKey })).toThrow(/^trustgate: issuers\[0\]\.publicKey /)
      expect(build({ publicKey })).toThrow(message)
    }
  })

  it('is one key source: with another it is refused, and undefined says so', () => {
    expect(build({ publicKey: spkiPem, jwksUri: 'https://rsa.example/jwks' })).toThrow(
      /^trustgate: issuers\[0\] has jwksUri and publicKey: exactly one key source is allowed/,
    )
    expect(build({ publicKey: undefined })).toThrow(
      /^trustgate: issuers\[0\]\.publicKey is undefined/,
    )
  })
})
