/**
 * The reused buffer of STEP 6 (signed-bytes.ts, scratch.ts, issue 15): the signing input and the
 * signature are written there for the crypto call, and the signature is wiped after it, so that
 * the buffer never holds a whole token; a token too long for it gets a buffer of its own.
 */
import { describe, expect, it } from 'vitest'
import { importJwk } from '../src/jwk.js'
import { scratch, SCRATCH_BYTES } from '../src/scratch.js'
import { verifyDecoded } from '../src/signed-bytes.js'
import { decodeToken } from '../src/token.js'
import { createVerifier } from '../src/verifier.js'
import { createKey, jwks, sign } from '../../../test/helpers/keys.js'

const ISS = 'https://scratch.test'

describe('verifyDecoded', () => {
  it('verifies the honest token, refuses its payload changed, and leaves no signature behind', async () => {
    const key = await createKey('ES256', { kid: 'k1' })
    const token = await sign(key, { iss: ISS, sub: 'alice', aud: 'api' })
    const verificationKey = importJwk(key.jwk)
    if (typeof verificationKey === 'string') {
      throw new Error('the test key did not import')
    }
    const decoded = decodeToken(token, 16384)
    if (decoded === undefined) throw new Error('the honest token did not decode')
    expect(verifyDecoded('ES256', verificationKey, decoded)).toBe(true)

    const { signedLength, signatureBytes } = decoded
    const buffer = scratch(signedLength + signatureBytes)
    // What stays is `<header>.<payload>` and zeros where the signature was.
    expect(buffer.toString('latin1', 0, signedLength)).toBe(token.slice(0, signedLength))
    expect(buffer.subarray(signedLength, signedLength + signatureBytes).every((b) => b === 0)).toBe(
      true,
    )

    const [header, , signature] = token.split('.') as [string, string, string]
    const forgedPayload = Buffer.from(
      JSON.stringify({ iss: ISS, sub: 'mallory', aud: 'api' }),
    ).toString('base64url')
    const forged = decodeToken(`${header}.${forgedPayload}.${signature}`, 16384)
    if (forged === undefined) throw new Error('the forged token did not decode')
    expect(verifyDecoded('ES256', verificationKey, forged)).toBe(false)
  })

  it('verifies a token longer than the reused buffer with a buffer of its own, and still refuses its forged twin', async () => {
    const key = await createKey('ES256', { kid: 'k1' })
    const padding = 'p'.repeat(SCRATCH_BYTES)
    const token = await sign(key, { iss: ISS, sub: 'alice', aud: 'api', padding })
    expect(token.length).toBeGreaterThan(SCRATCH_BYTES)
    const verifier = createVerifier({
      issuers: [{ issuer: ISS, audience: 'api', keys: jwks(key), algorithms: ['ES256'] }],
      maxTokenLength: token.length,
      tokenCache: false,
    })
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'alice' })
    const [header, , signature] = token.split('.') as [string, string, string]
    const forgedPayload = Buffer.from(
      JSON.stringify({ iss: ISS, sub: 'mallory', aud: 'api', padding }),
    ).toString('base64url')
    await expect(verifier.verify(`${header}.${forgedPayload}.${signature}`)).rejects.toMatchObject({
      reason: 'bad_signature',
    })
  })
})
