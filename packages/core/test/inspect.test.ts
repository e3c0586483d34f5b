import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decodeUntrusted, inspectJwks } from '../src/inspect.js'
import { createKey, sign } from '../../../test/helpers/keys.js'

describe('inspectJwks', () => {
  it('is undefined for a document that is not a JWK Set', () => {
    expect(inspectJwks({ nokeys: [] })).toBeUndefined()
    expect(inspectJwks([])).toBeUndefined()
    expect(inspectJwks(null)).toBeUndefined()
  })

  it('lists the algorithms the verifier would use each key with', async () => {
    const rsa = await createKey('RS256', { jwkAlg: false })
    const ec = await createKey('ES384')
    const [a, b] = inspectJwks({ keys: [rsa.jwk, ec.jwk] }) ?? []
    expect(a).toMatchObject({ index: 0, kty: 'RSA', bits: 2048, rejection: undefined })
    expect(a?.algorithms).toEqual(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'])
    expect(b).toMatchObject({ kty: 'EC', crv: 'P-384', bits: undefined, algorithms: ['ES384'] })
  })

  it('says why the verifier skips a key, with the size of a weak RSA key', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const weak = publicKey.export({ format: 'jwk' })
    const enc = { ...(await createKey('RS256')).jwk, use: 'enc' }
    const reports = inspectJwks({ keys: [weak, enc, { kty: 'oct', k: 'AAAA' }, 'x'] }) ?? []
    expect(reports.map((r) => r.rejection)).toEqual([
      'weak_rsa_key',
      'not_for_signatures',
      'symmetric_key',
      'not_an_object',
    ])
    expect(reports[0]?.bits).toBe(1024)
    expect(reports.every((r) => r.algorithms.length === 0)).toBe(true)
  })

  it('gives no algorithm to a key whose own alg does not fit its type', async () => {
    const ec = await createKey('ES256')
    const [report] = inspectJwks({ keys: [{ ...ec.jwk, alg: 'RS256' }] }) ?? []
    expect(report).toMatchObject({ rejection: undefined, algorithms: [] })
  })
})

describe('decodeUntrusted', () => {
  it('gives header, claims and the signature length only', async () => {
    const key = await createKey('ES256')
    const token = await sign(key, { sub: 'alice' })
    expect(decodeUntrusted(token)).toEqual({
      header: { alg: 'ES256', kid: key.kid },
      claims: expect.objectContaining({ sub: 'alice' }),
      signatureBytes: 64,
    })
    expect(decodeUntrusted('a.b')).toBeUndefined()
  })
})
