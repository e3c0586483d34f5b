import { describe, expect, it } from 'vitest'
import {
  decodeToken,
  HEADER_CACHE_MAX,
  HEADER_CACHE_MAX_SEGMENT,
  HeaderCache,
  isObject,
} from '../src/token.js'
import { b64json } from '../../../test/helpers/keys.js'

const header = b64json({ alg: 'ES256', kid: 'k1' })
const payload = b64json({ iss: 'https://issuer.test', sub: 'alice' })
const signature = Buffer.from('signature bytes').toString('base64url')
const token = `${header}.${payload}.${signature}`

describe('decodeToken', () => {
  it('decodes the header and the payload, and measures the signing input and the signature of a compact JWS', () => {
    const decoded = decodeToken(token, 16384)
    expect(decoded).toMatchObject({
      header: { alg: 'ES256', kid: 'k1' },
      payload: { iss: 'https://issuer.test', sub: 'alice' },
      token,
      signedLength: `${header}.${payload}`.length,
      signatureBytes: Buffer.byteLength('signature bytes'),
      headerSegment: header,
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

describe('HeaderCache', () => {
  it('hands the remembered header of a segment to decodeToken, frozen, in place of a parse', () => {
    const headers = new HeaderCache()
    const first = decodeToken(token, 16384, headers)
    expect(first).toBeDefined()
    expect(headers.find(header, header.length)?.header).toBeUndefined()
    headers.remember(header, first?.header ?? {})
    const remembered = headers.find(header, header.length)?.header
    expect(remembered).toEqual({ alg: 'ES256', kid: 'k1' })
    expect(Object.isFrozen(remembered)).toBe(true)
    expect(decodeToken(token, 16384, headers)?.header).toBe(remembered)
  })

  it('freezes nested members of a remembered header', () => {
    const headers = new HeaderCache()
    const nested = { alg: 'ES256', jwk: { kty: 'EC', list: [{ x: 1 }] } }
    headers.remember('segment', nested)
    expect(Object.isFrozen(nested.jwk)).toBe(true)
    expect(Object.isFrozen(nested.jwk.list)).toBe(true)
    expect(Object.isFrozen(nested.jwk.list[0])).toBe(true)
  })

  it('still refuses a malformed payload or signature behind a remembered header', () => {
    const headers = new HeaderCache()
    headers.remember(header, { alg: 'ES256', kid: 'k1' })
    expect(decodeToken(`${header}.${payload}=.${signature}`, 16384, headers)).toBeUndefined()
    expect(decodeToken(`${header}.${payload}.${signature}+`, 16384, headers)).toBeUndefined()
    expect(decodeToken(`${header}.${payload}`, 16384, headers)).toBeUndefined()
  })

  it('keeps at most HEADER_CACHE_MAX segments, forgetting the oldest', () => {
    const headers = new HeaderCache()
    for (let i = 0; i <= HEADER_CACHE_MAX; i++) headers.remember(`segment${String(i)}`, { i })
    expect(headers.find('segment0', 'segment0'.length)?.header).toBeUndefined()
    expect(headers.find('segment1', 'segment1'.length)?.header).toEqual({ i: 1 })
    expect(
      headers.find(
        `segment${String(HEADER_CACHE_MAX)}`,
        `segment${String(HEADER_CACHE_MAX)}`.length,
      )?.header,
    ).toEqual({ i: HEADER_CACHE_MAX })
  })

  it('finds the segment a token starts with, the last one found first, and forgets it once evicted', () => {
    const headers = new HeaderCache()
    headers.remember(header, { alg: 'ES256', kid: 'k1' })
    expect(headers.find(token, header.length)?.header).toEqual({ alg: 'ES256', kid: 'k1' })
    // The same length, other characters: not the remembered segment.
    const other = `${'x'.repeat(header.length)}.${payload}.${signature}`
    expect(headers.find(other, header.length)).toBeUndefined()
    // Evicted while it was the last one found: gone from the map and from the shortcut.
    for (let i = 0; i < HEADER_CACHE_MAX; i++) headers.remember(`segment${String(i)}`, { i })
    expect(headers.find(token, header.length)).toBeUndefined()
    expect(decodeToken(token, 16384, headers)?.header).toEqual({ alg: 'ES256', kid: 'k1' })
  })

  it('does not keep a segment longer than HEADER_CACHE_MAX_SEGMENT', () => {
    const headers = new HeaderCache()
    const long = 'a'.repeat(HEADER_CACHE_MAX_SEGMENT + 1)
    headers.remember(long, {})
    expect(headers.find(long, long.length)?.header).toBeUndefined()
    const longest = 'a'.repeat(HEADER_CACHE_MAX_SEGMENT)
    headers.remember(longest, {})
    expect(headers.find(longest, longest.length)?.header).toEqual({})
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
