import { describe, expect, it } from 'vitest'
import { decodeToken, isObject } from '../src/token.js'
import { b64json } from '../../../test/helpers/keys.js'

const header = b64json({ alg: 'ES256', kid: 'k1' })
const payload = b64json({ iss: 'https://issuer.test', sub: 'alice' })
const signature = Buffer.from('signature bytes').toString('base64url')
const token = `${header}.${payload}.${signature}`

describe('decodeToken', () => {
  it('decodes the header, the payload, the signing input and the signature of a compact JWS', () => {
    const decoded = decodeToken(token, 16384)
    expect(decoded).toEqual({
      header: { alg: 'ES256', kid: 'k1' },
      payload: { iss: 'https://issuer.test', sub: 'alice' },
      signingInput: `${header}.${payload}`,
      signature: new Uint8Array(Buffer.from('signature bytes')),
    })
  })

  it('accepts a token exactly as long as the limit and rejects one character more', () => {
    expect(decodeToken(token, token.length)).toBeDefined()
    expect(decodeToken(token, token.length - 1)).toBeUndefined()
  })

  it('rejects a token of two parts', () => {
    expect(decodeToken(`${header}.${payload}`, 16384)).toBeUndefined()
    expect(decodeToken(header, 16384)).toBeUndefined()
  })

  it('rejects a token of four or five parts, such as a JWE', () => {
    expect(decodeToken(`${token}.${signature}`, 16384)).toBeUndefined()
    expect(decodeToken(`${token}.${signature}.${signature}`, 16384)).toBeUndefined()
  })

  it('rejects an empty signature part', () => {
    expect(decodeToken(`${header}.${payload}.`, 16384)).toBeUndefined()
  })

  it('rejects base64 padding and characters outside base64url', () => {
    expect(decodeToken(`${header}=.${payload}.${signature}`, 16384)).toBeUndefined()
    expect(decodeToken(`${header}.${payload}.${signature}+/`, 16384)).toBeUndefined()
    expect(decodeToken(`${header}.${payload} .${signature}`, 16384)).toBeUndefined()
  })

  it('rejects a header or payload that is JSON but not an object', () => {
    for (const value of [[1, 2], null, 'string', 42, true]) {
      expect(decodeToken(`${b64json(value)}.${payload}.${signature}`, 16384)).toBeUndefined()
      expect(decodeToken(`${header}.${b64json(value)}.${signature}`, 16384)).toBeUndefined()
    }
  })

  it('rejects a header or payload that is not JSON', () => {
    const notJson = Buffer.from('{"alg":').toString('base64url')
    expect(decodeToken(`${notJson}.${payload}.${signature}`, 16384)).toBeUndefined()
    expect(decodeToken(`${header}.${notJson}.${signature}`, 16384)).toBeUndefined()
  })

  it('rejects a payload that is not valid UTF-8', () => {
    const latin1 = Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url')
    expect(decodeToken(`${header}.${latin1}.${signature}`, 16384)).toBeUndefined()
  })
})

describe('isObject', () => {
  it('is true for plain objects only', () => {
    expect(isObject({})).toBe(true)
    expect(isObject([])).toBe(false)
    expect(isObject(null)).toBe(false)
    expect(isObject('x')).toBe(false)
  })
})
