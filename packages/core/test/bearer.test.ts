import { describe, expect, it } from 'vitest'
import { authorizationValues, parseBearer } from '../src/bearer.js'
import { createErrorFactory } from '../src/errors.js'
import { expectNoLeak, type AuthErrorShape } from '../../../test/helpers/auth-error.js'

const errors = createErrorFactory('api')
const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl'

function invalidRequest(value: string | readonly string[], reason: string): void {
  let thrown: unknown
  try {
    parseBearer(value, errors)
  } catch (error) {
    thrown = error
  }
  const error = thrown as AuthErrorShape
  expect({ code: error.code, reason: error.reason, status: error.status }).toEqual({
    code: 'invalid_request',
    reason,
    status: 400,
  })
  expect(error.headers['WWW-Authenticate']).toBe(
    `Bearer realm="api", error="invalid_request", error_description="${error.message}"`,
  )
  expectNoLeak(token, error)
}

describe('parseBearer', () => {
  it('returns the token of a Bearer header', () => {
    expect(parseBearer(`Bearer ${token}`, errors)).toBe(token)
    expect(parseBearer([`Bearer ${token}`], errors)).toBe(token)
  })

  it('reads the scheme case-insensitively', () => {
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
      expect(parseBearer(`${scheme} ${token}`, errors)).toBe(token)
    }
  })

  it('accepts b64token characters and trailing padding', () => {
    expect(parseBearer('Bearer abc-._~+/xyz==', errors)).toBe('abc-._~+/xyz==')
  })

  it('returns null without a header', () => {
    expect(parseBearer(undefined, errors)).toBeNull()
    expect(parseBearer([], errors)).toBeNull()
  })

  it('returns null for another scheme, which carries no bearer token', () => {
    expect(parseBearer('Basic YWxhZGRpbjpvcGVuc2VzYW1l', errors)).toBeNull()
    expect(parseBearer('Digest', errors)).toBeNull()
  })

  it('rejects several Authorization headers as invalid_request', () => {
    invalidRequest([`Bearer ${token}`, `Bearer ${token}`], 'multiple_authorization_headers')
    invalidRequest([`Basic abc`, `Bearer ${token}`], 'multiple_authorization_headers')
  })

  it('rejects an empty token as invalid_request', () => {
    invalidRequest('Bearer', 'malformed_authorization_header')
    invalidRequest('Bearer ', 'malformed_authorization_header')
  })

  it('rejects a token with spaces, or two spaces after the scheme, as invalid_request', () => {
    invalidRequest(`Bearer ${token} extra`, 'malformed_authorization_header')
    invalidRequest(`Bearer  ${token}`, 'malformed_authorization_header')
  })

  it('rejects characters outside b64token as invalid_request', () => {
    invalidRequest(`Bearer ${token},x`, 'malformed_authorization_header')
    invalidRequest('Bearer =abc', 'malformed_authorization_header')
  })

  it('rejects a header that is only whitespace as invalid_request', () => {
    invalidRequest('   ', 'malformed_authorization_header')
    invalidRequest(' ', 'malformed_authorization_header')
  })
})

describe('authorizationValues', () => {
  it('picks every Authorization header of rawHeaders, whatever the case of its name', () => {
    const raw = [
      'Host',
      'api.test',
      'authorization',
      'Bearer one',
      'Accept',
      '*/*',
      'AUTHORIZATION',
      'Bearer two',
      'Authorization',
      'Basic three',
      'X-Authorization',
      'Bearer four',
    ]
    expect(authorizationValues(raw)).toEqual(['Bearer one', 'Bearer two', 'Basic three'])
  })

  it('returns nothing when there is no Authorization header', () => {
    expect(authorizationValues(['Host', 'api.test'])).toEqual([])
    expect(authorizationValues([])).toEqual([])
  })

  it('ignores a dangling name without a value', () => {
    expect(authorizationValues(['Authorization'])).toEqual([])
  })
})

describe('parseBearer with a tab after the scheme', () => {
  it('treats Bearer<TAB>token as a malformed bearer header, not as another scheme', () => {
    const errors = createErrorFactory()
    expect(() => parseBearer('Bearer\tabc.def.ghi', errors)).toThrow(
      expect.objectContaining({
        code: 'invalid_request',
        reason: 'malformed_authorization_header',
      }),
    )
    expect(parseBearer('Bearer abc.def.ghi', errors)).toBe('abc.def.ghi')
  })
})
