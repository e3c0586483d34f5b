/**
 * The middleware's part of DPoP at start-up: `origin` is required with `dpop`, and must be a bare
 * origin or a function (requests are covered end to end in test/e2e/dpop.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { jwtAuth } from '../src/index.js'

const issuers = [{ issuer: 'https://issuer.test', audience: 'api', keys: { keys: [] } }]

describe('@trustgate/express with dpop', () => {
  it('refuses dpop without origin, and an origin with a path, query or fragment', () => {
    expect(() => jwtAuth({ issuers, dpop: {} })).toThrow(/^trustgate: origin is required with dpop/)
    for (const origin of [
      'https://api.test/v1',
      'https://api.test/?',
      'https://api.test#x',
      'api.test',
    ]) {
      expect(() => jwtAuth({ issuers, origin })).toThrow(/^trustgate: origin must be an origin/)
    }
  })

  it('takes a bare origin or a function', () => {
    const issuer = {
      issuer: 'https://issuer.test',
      audience: 'api',
      jwksUri: 'https://issuer.test/jwks.json',
    }
    expect(() => jwtAuth({ issuers: [issuer], dpop: {}, origin: 'https://api.test' })).not.toThrow()
    expect(() =>
      jwtAuth({ issuers: [issuer], dpop: {}, origin: () => 'https://api.test' }),
    ).not.toThrow()
  })
})
