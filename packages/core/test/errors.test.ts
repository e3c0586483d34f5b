import { describe, expect, it } from 'vitest'
import {
  AuthError,
  createErrorFactory,
  DEFAULT_REALM,
  isAuthError,
  isQuotable,
  isScopeToken,
  type InvalidTokenReason,
} from '../src/errors.js'

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

describe('isAuthError', () => {
  it('recognises AuthErrors, also from another copy of the package', () => {
    expect(isAuthError(errors.missingToken())).toBe(true)
    const foreign = Object.assign(new Error('x'), {
      name: 'AuthError',
      code: 'invalid_token',
      reason: 'expired',
    })
    expect(isAuthError(foreign)).toBe(true)
    expect(isAuthError(new Error('x'))).toBe(false)
    expect(isAuthError({ name: 'AuthError', code: 'x', reason: 'y' })).toBe(false)
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
