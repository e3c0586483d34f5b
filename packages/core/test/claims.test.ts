import { describe, expect, it } from 'vitest'
import { checkClaims, checkTyp } from '../src/claims.js'
import { normalizeTyp } from '../src/claims.js'

const NOW = 1_700_000_000
const rules = {
  audiences: new Set(['api', 'https://api.test']),
  requireExp: true,
  maxTokenAge: undefined,
  typ: undefined,
  clockTolerance: 5,
}
const good = { iss: 'https://issuer.test', sub: 'alice', aud: 'api', iat: NOW - 10, exp: NOW + 60 }

describe('checkClaims', () => {
  it('accepts a valid payload', () => {
    expect(checkClaims(good, rules, NOW)).toBeUndefined()
  })

  it('accepts exp in the past by less than clockTolerance, and rejects it at the tolerance', () => {
    expect(checkClaims({ ...good, exp: NOW - 4 }, rules, NOW)).toBeUndefined()
    expect(checkClaims({ ...good, exp: NOW - 5 }, rules, NOW)).toBe('expired')
    expect(checkClaims({ ...good, exp: NOW - 3600 }, rules, NOW)).toBe('expired')
  })

  it('honours a per-issuer clockTolerance', () => {
    expect(
      checkClaims({ ...good, exp: NOW - 30 }, { ...rules, clockTolerance: 60 }, NOW),
    ).toBeUndefined()
    expect(checkClaims({ ...good, exp: NOW - 1 }, { ...rules, clockTolerance: 0 }, NOW)).toBe(
      'expired',
    )
    expect(checkClaims({ ...good, exp: NOW }, { ...rules, clockTolerance: 0 }, NOW)).toBe('expired')
  })

  it('rejects a missing exp unless the issuer does not require it', () => {
    const { exp: _exp, ...noExp } = good
    expect(checkClaims(noExp, rules, NOW)).toBe('missing_exp')
    expect(checkClaims(noExp, { ...rules, requireExp: false }, NOW)).toBeUndefined()
  })

  it('rejects nbf beyond the tolerance as not_yet_valid', () => {
    expect(checkClaims({ ...good, nbf: NOW + 5 }, rules, NOW)).toBeUndefined()
    expect(checkClaims({ ...good, nbf: NOW + 6 }, rules, NOW)).toBe('not_yet_valid')
  })

  it('rejects iat beyond the tolerance as issued_in_future', () => {
    expect(checkClaims({ ...good, iat: NOW + 5 }, rules, NOW)).toBeUndefined()
    expect(checkClaims({ ...good, iat: NOW + 6 }, rules, NOW)).toBe('issued_in_future')
  })

  it('requires iat with maxTokenAge and rejects a token older than it', () => {
    const aged = { ...rules, maxTokenAge: 300 }
    const { iat: _iat, ...noIat } = good
    expect(checkClaims(noIat, aged, NOW)).toBe('missing_iat')
    expect(checkClaims({ ...good, iat: NOW - 305 }, aged, NOW)).toBeUndefined()
    expect(checkClaims({ ...good, iat: NOW - 306 }, aged, NOW)).toBe('token_too_old')
  })

  it('rejects time claims that are not finite numbers as invalid_claim', () => {
    for (const name of ['exp', 'nbf', 'iat']) {
      expect(checkClaims({ ...good, [name]: String(NOW) }, rules, NOW)).toBe('invalid_claim')
      expect(checkClaims({ ...good, [name]: null }, rules, NOW)).toBe('invalid_claim')
      expect(checkClaims({ ...good, [name]: Infinity }, rules, NOW)).toBe('invalid_claim')
    }
  })

  it('accepts an aud string or array containing one of the audiences', () => {
    expect(checkClaims({ ...good, aud: 'https://api.test' }, rules, NOW)).toBeUndefined()
    expect(checkClaims({ ...good, aud: ['other', 'api'] }, rules, NOW)).toBeUndefined()
  })

  it('rejects an aud naming none of the audiences, or no aud, as audience_mismatch', () => {
    expect(checkClaims({ ...good, aud: 'API' }, rules, NOW)).toBe('audience_mismatch')
    expect(checkClaims({ ...good, aud: ['other'] }, rules, NOW)).toBe('audience_mismatch')
    expect(checkClaims({ ...good, aud: [] }, rules, NOW)).toBe('audience_mismatch')
    const { aud: _aud, ...noAud } = good
    expect(checkClaims(noAud, rules, NOW)).toBe('audience_mismatch')
  })

  it('rejects an aud of the wrong type as invalid_claim', () => {
    expect(checkClaims({ ...good, aud: 42 }, rules, NOW)).toBe('invalid_claim')
    expect(checkClaims({ ...good, aud: ['api', 42] }, rules, NOW)).toBe('invalid_claim')
    expect(checkClaims({ ...good, aud: { api: true } }, rules, NOW)).toBe('invalid_claim')
  })

  it('rejects a missing or empty sub as missing_subject and a non-string sub as invalid_claim', () => {
    const { sub: _sub, ...noSub } = good
    expect(checkClaims(noSub, rules, NOW)).toBe('missing_subject')
    expect(checkClaims({ ...good, sub: '' }, rules, NOW)).toBe('missing_subject')
    expect(checkClaims({ ...good, sub: 42 }, rules, NOW)).toBe('invalid_claim')
    expect(checkClaims({ ...good, sub: null }, rules, NOW)).toBe('invalid_claim')
  })
})

describe('checkTyp', () => {
  it('accepts any typ when the issuer requires none', () => {
    expect(checkTyp({}, { typ: undefined })).toBeUndefined()
    expect(checkTyp({ typ: 'JWT' }, { typ: undefined })).toBeUndefined()
  })

  it('compares typ case-insensitively, with or without application/ (RFC 8725 s3.11)', () => {
    const rule = { typ: normalizeTyp('at+jwt') }
    expect(checkTyp({ typ: 'at+jwt' }, rule)).toBeUndefined()
    expect(checkTyp({ typ: 'AT+JWT' }, rule)).toBeUndefined()
    expect(checkTyp({ typ: 'application/at+jwt' }, rule)).toBeUndefined()
  })

  it('rejects another, a missing or a non-string typ as typ_mismatch', () => {
    const rule = { typ: normalizeTyp('application/at+jwt') }
    expect(checkTyp({ typ: 'JWT' }, rule)).toBe('typ_mismatch')
    expect(checkTyp({}, rule)).toBe('typ_mismatch')
    expect(checkTyp({ typ: 1 }, rule)).toBe('typ_mismatch')
  })
})

describe('cnf (RFC 7800) methods STEP 8 cannot verify', () => {
  it.each([
    ['jwk', { jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } }],
    ['kid', { kid: 'client-key-1' }],
    ['jku', { jku: 'https://client.example/jwks' }],
    ['jwe', { jwe: 'a.b.c.d.e' }],
    ['jkt beside jwk', { jkt: 'thumbprint', jwk: { kty: 'OKP' } }],
    ['__proto__', JSON.parse('{"__proto__":{"jkt":"x"}}') as Record<string, unknown>],
  ])(
    'refuses a token bound by %s as unsupported_confirmation; the unbound twin passes',
    (_, cnf) => {
      expect(checkClaims({ ...good, cnf }, rules, NOW)).toBe('unsupported_confirmation')
      expect(checkClaims(good, rules, NOW)).toBeUndefined()
    },
  )

  it('leaves jkt and x5t#S256 to STEP 8, and an empty cnf binds nothing', () => {
    expect(checkClaims({ ...good, cnf: { jkt: 'thumbprint' } }, rules, NOW)).toBeUndefined()
    expect(checkClaims({ ...good, cnf: { 'x5t#S256': 'thumbprint' } }, rules, NOW)).toBeUndefined()
    expect(checkClaims({ ...good, cnf: {} }, rules, NOW)).toBeUndefined()
    expect(checkClaims({ ...good, cnf: { jkt: 42 } }, rules, NOW)).toBe('invalid_claim')
  })
})
