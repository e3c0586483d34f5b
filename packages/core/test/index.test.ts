import { describe, expect, it } from 'vitest'
import * as core from '../src/index.js'

describe('the public barrel', () => {
  it('exports the API of API.md and nothing internal', () => {
    const names = Object.keys(core)
    expect(names).toEqual(
      expect.arrayContaining([
        'AuthError',
        'CLOCK_TOLERANCE_S',
        'DEFAULT_ALGORITHMS',
        'DEFAULT_REALM',
        'JWKS_CACHE_MAX_AGE_MS',
        'JWKS_COOLDOWN_MS',
        'JWKS_TIMEOUT_MS',
        'JWKS_MAX_STALE_MS',
        'MAX_DOCUMENT_BYTES',
        'MAX_TOKEN_LENGTH',
        'SUPPORTED_ALGORITHMS',
        'TOKEN_CACHE_MAX',
        'TOKEN_CACHE_MAX_BYTES',
        'REPLAY_STORE_MAX',
        'createMemoryReplayStore',
        'authorizationValues',
        'checkScopeList',
        'createGuard',
        'createVerifier',
        'isAuthError',
        'parseBearer',
        'principalKey',
        'certificateThumbprint',
        'forwardedCertificate',
        'MalformedCertificateError',
        'parseClientCertHeader',
        'parseEscapedPem',
        'parseXfcc',
        'peerCertificate',
      ]),
    )
    for (const internal of [
      'resolveConfig',
      'RemoteKeySource',
      'KeySet',
      'decodeToken',
      'importJwk',
      'fetchJson',
      'sanitize',
      'LogSampler',
    ]) {
      expect(names).not.toContain(internal)
    }
  })

  it('exports a working createVerifier and AuthError', () => {
    expect(typeof core.createVerifier).toBe('function')
    expect(() => core.createVerifier({ issuers: [] })).toThrow(TypeError)
    const error = core
      .createVerifier({
        issuers: [{ issuer: 'https://legacy.test', audience: 'api', secret: 's'.repeat(32) }],
      })
      .errors.missingToken()
    expect(error).toBeInstanceOf(core.AuthError)
    expect(core.SUPPORTED_ALGORITHMS).not.toContain('none')
  })
})
