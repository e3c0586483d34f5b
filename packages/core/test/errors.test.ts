import { describe, expect, it } from 'vitest'
import { AuthError, isAuthError } from '../src/auth-error.js'
import { createErrorFactory, DEFAULT_REALM, isQuotable, isScopeToken } from '../src/errors.js'
import type { InvalidTokenReason } from '../src/reasons.js'

const errors = createErrorFactory('api')

describe('AuthError', () => {
  it('answers a missing token with a challenge that has no error attribute (RFC 6750 s3.1)', () => {
    const error = errors.missingToken()
    expect(error).toBeInstanceOf(AuthError)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('AuthError')
    expect(error.code).toBe('missing_token')
    expect(error.reason).toBe('missing_token')
    expect(error.status).toBe(401)
    expect(error.statusCode).toBe(401)
    expect(error.expose).toBe(true)
    expect(error.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="api"' })
    expect(error.toJSON()).toEqual({ error: 'missing_token', error_description: error.message })
  })

  it('answers invalid_request with 400 and error and error_description in the challenge', () => {
    const error = errors.invalidRequest('multiple_authorization_headers')
    expect([error.code, error.reason, error.status, error.statusCode]).toEqual([
      'invalid_request',
      'multiple_authorization_headers',
      400,
      400,
    ])
    expect(error.headers['WWW-Authenticate']).toBe(
      'Bearer realm="api", error="invalid_request", error_description="More than one Authorization header was sent"',
    )
  })

  it('answers every invalid_token reason with 401 and a challenge naming the code', () => {
    const reasons: InvalidTokenReason[] = [
      'malformed',
      'untrusted_issuer',
      'unknown_kid',
      'alg_not_allowed',
      'key_mismatch',
      'bad_signature',
      'unsupported_crit',
      'invalid_claim',
      'missing_exp',
      'expired',
      'not_yet_valid',
      'issued_in_future',
      'missing_iat',
      'token_too_old',
      'audience_mismatch',
      'missing_subject',
      'typ_mismatch',
    ]
    const messages = new Set<string>()
    for (const reason of reasons) {
      const error = errors.invalidToken(reason)
      expect(error.code).toBe('invalid_token')
      expect(error.reason).toBe(reason)
      expect(error.status).toBe(401)
      expect(error.statusCode).toBe(401)
      expect(error.message).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/)
      expect(error.headers['WWW-Authenticate']).toBe(
        `Bearer realm="api", error="invalid_token", error_description="${error.message}"`,
      )
      expect(error.toJSON()).toEqual({ error: 'invalid_token', error_description: error.message })
      expect(JSON.parse(JSON.stringify(error))).toEqual(error.toJSON())
      messages.add(error.message)
    }
    // One fixed sentence per reason.
    expect(messages.size).toBe(reasons.length)
  })

  it('answers insufficient_scope with 403 and the required scopes in the challenge', () => {
    const error = errors.insufficientScope(['orders:read', 'orders:write'])
    expect([error.code, error.reason, error.status]).toEqual([
      'insufficient_scope',
      'insufficient_scope',
      403,
    ])
    expect(error.headers['WWW-Authenticate']).toBe(
      `Bearer realm="api", error="insufficient_scope", error_description="${error.message}", scope="orders:read orders:write"`,
    )
    expect(error.toJSON()).toEqual({
      error: 'insufficient_scope',
      error_description: error.message,
    })
  })

  it('leaves the scope attribute out when a forbidden decision names no scope', () => {
    const error = errors.insufficientScope([], 'forbidden')
    expect([error.code, error.reason, error.status]).toEqual([
      'insufficient_scope',
      'forbidden',
      403,
    ])
    expect(error.headers['WWW-Authenticate']).not.toContain('scope=')
  })

  it('answers jwks_unavailable with 503 and a Bearer challenge', () => {
    const error = errors.jwksUnavailable()
    expect([error.code, error.reason, error.status, error.statusCode]).toEqual([
      'jwks_unavailable',
      'jwks_unavailable',
      503,
      503,
    ])
    expect(error.headers['WWW-Authenticate']).toBe(
      `Bearer realm="api", error="jwks_unavailable", error_description="${error.message}"`,
    )
  })

  it('freezes the headers', () => {
    const error = errors.invalidToken('expired')
    expect(Object.isFrozen(error.headers)).toBe(true)
  })
})

describe('createErrorFactory', () => {
  it('uses the realm it is given, and api by default', () => {
    expect(DEFAULT_REALM).toBe('api')
    expect(createErrorFactory().missingToken().headers['WWW-Authenticate']).toBe(
      'Bearer realm="api"',
    )
    expect(createErrorFactory('orders service').missingToken().headers['WWW-Authenticate']).toBe(
      'Bearer realm="orders service"',
    )
  })

  it('refuses a realm that cannot stand in a quoted-string', () => {
    expect(() => createErrorFactory('a"b')).toThrow(TypeError)
    expect(() => createErrorFactory('a\\b')).toThrow(/realm/)
    expect(() => createErrorFactory('a\nb')).toThrow(TypeError)
  })
})

describe('isAuthError (issue 9, item 6)', () => {
  // What a duplicated install of trustgate makes: another class, the same shape.
  function foreignAuthError(overrides: Record<string, unknown> = {}): Error {
    const error = Object.assign(new Error('The token has expired'), {
      name: 'AuthError',
      code: 'invalid_token',
      reason: 'expired',
      status: 401,
      statusCode: 401,
      expose: true,
      headers: { 'WWW-Authenticate': 'Bearer realm="api", error="invalid_token"' },
      toJSON: () => ({ error: 'invalid_token', error_description: 'The token has expired' }),
    })
    return Object.assign(error, overrides)
  }

  it('recognises AuthErrors, and the honest twin from another copy of the package', () => {
    expect(isAuthError(errors.missingToken())).toBe(true)
    expect(isAuthError(errors.invalidToken('expired'))).toBe(true)
    expect(isAuthError(foreignAuthError())).toBe(true)
    expect(
      isAuthError(foreignAuthError({ headers: { 'WWW-Authenticate': 'x', 'DPoP-Nonce': 'n' } })),
    ).toBe(true)
  })

  it('refuses a look-alike: an Error named AuthError with code and reason only, or any field off', () => {
    const lookAlike = Object.assign(new Error('x'), {
      name: 'AuthError',
      code: 'invalid_token',
      reason: 'expired',
    })
    expect(isAuthError(lookAlike)).toBe(false)
    const wrong: Record<string, unknown>[] = [
      { name: 'Error' },
      { code: 'made_up' },
      { code: 'toString' },
      { reason: 'made_up' },
      { reason: '__proto__' },
      { status: 200, statusCode: 200 },
      { status: 403 },
      { statusCode: 500 },
      { status: '401' },
      { headers: undefined },
      { headers: null },
      { headers: [] },
      { headers: {} },
      { headers: { 'WWW-Authenticate': 42 } },
      { headers: { 'WWW-Authenticate': 'Bearer', 'Set-Cookie': ['a=b'] } },
      { toJSON: undefined },
      { message: undefined },
    ]
    for (const overrides of wrong) {
      expect(isAuthError(foreignAuthError(overrides)), JSON.stringify(overrides)).toBe(false)
    }
    // Not an Error at all, even with every field right.
    const { ...plain } = foreignAuthError() as unknown as Record<string, unknown>
    expect(isAuthError({ ...plain, name: 'AuthError', message: 'x' })).toBe(false)
    expect(isAuthError(new Error('x'))).toBe(false)
    expect(isAuthError(null)).toBe(false)
    expect(isAuthError('AuthError')).toBe(false)
  })

  it('never throws, whatever it is given: getters that throw, a hostile Proxy', () => {
    const getter = foreignAuthError()
    Object.defineProperty(getter, 'code', {
      get() {
        throw new Error('boom')
      },
    })
    expect(isAuthError(getter)).toBe(false)
    const proxy = new Proxy(foreignAuthError(), {
      getPrototypeOf() {
        throw new Error('boom')
      },
      get() {
        throw new Error('boom')
      },
    })
    expect(() => isAuthError(proxy)).not.toThrow()
    expect(isAuthError(proxy)).toBe(false)
  })
})

describe('AuthError stack (issue 9, item 5)', () => {
  it('is one short fixed line without frames, for every reason', () => {
    const all = [
      errors.missingToken(),
      errors.invalidRequest('multiple_authorization_headers'),
      errors.invalidToken('expired'),
      errors.invalidToken('bad_signature'),
      errors.insufficientScope(['orders:read']),
      errors.jwksUnavailable(),
    ]
    for (const error of all) {
      expect(error.stack).toBe(`AuthError: ${error.message}`)
      expect(error.stack).not.toContain('\n')
      expect(error.stack).not.toMatch(/\bat\b.*:\d+/)
      expect((error.stack ?? '').length).toBeLessThan(120)
    }
  })
})

describe('isQuotable and isScopeToken', () => {
  it('follow the RFC 6750 grammar', () => {
    expect(isQuotable('api v1')).toBe(true)
    expect(isQuotable('é')).toBe(false)
    expect(isScopeToken('orders:read')).toBe(true)
    expect(isScopeToken('a b')).toBe(false)
    expect(isScopeToken('a"b')).toBe(false)
    expect(isScopeToken('')).toBe(false)
  })
})
