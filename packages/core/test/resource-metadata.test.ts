import { describe, expect, it } from 'vitest'
import { createErrorFactory } from '../src/errors.js'
import { resolveResourceMetadata } from '../src/resource-metadata.js'
import { createVerifier } from '../src/verifier.js'
import { createKey, jwks, sign } from '../../../test/helpers/keys.js'

// RFC 9728 s3.2, the example response, as its options.
const EXAMPLE = {
  resource: 'https://resource.example.com',
  authorizationServers: ['https://as1.example.com', 'https://as2.example.net'],
  bearerMethodsSupported: ['header', 'body'],
  scopesSupported: ['profile', 'email', 'phone'],
  resourceDocumentation: 'https://resource.example.com/resource_documentation.html',
} as const

describe('the document (RFC 9728 s3.2)', () => {
  it('is the RFC example response, field for field', () => {
    expect(resolveResourceMetadata(EXAMPLE)?.document).toEqual({
      resource: 'https://resource.example.com',
      authorization_servers: ['https://as1.example.com', 'https://as2.example.net'],
      bearer_methods_supported: ['header', 'body'],
      scopes_supported: ['profile', 'email', 'phone'],
      resource_documentation: 'https://resource.example.com/resource_documentation.html',
    })
  })

  it('says header by default, as trustgate reads only the Authorization header by default', () => {
    const metadata = resolveResourceMetadata({
      resource: 'https://api.example.com',
      authorizationServers: ['https://auth.example.com'],
      resourceName: 'Orders API',
    })
    expect(metadata?.document).toEqual({
      resource: 'https://api.example.com',
      authorization_servers: ['https://auth.example.com'],
      bearer_methods_supported: ['header'],
      resource_name: 'Orders API',
    })
    expect(Object.isFrozen(metadata?.document)).toBe(true)
  })

  it('takes dpop_signing_alg_values_supported from the verifier, the hook of the DPoP support', () => {
    const metadata = resolveResourceMetadata(EXAMPLE, {
      dpopSigningAlgValuesSupported: ['ES256', 'EdDSA'],
    })
    expect(metadata?.document.dpop_signing_alg_values_supported).toEqual(['ES256', 'EdDSA'])
  })
})

describe('the well-known URL (RFC 9728 s3.1)', () => {
  it.each([
    [
      'https://resource.example.com/resource1',
      '/.well-known/oauth-protected-resource/resource1',
      'https://resource.example.com/.well-known/oauth-protected-resource/resource1',
    ],
    [
      'https://resource.example.com',
      '/.well-known/oauth-protected-resource',
      'https://resource.example.com/.well-known/oauth-protected-resource',
    ],
    [
      'https://resource.example.com/',
      '/.well-known/oauth-protected-resource',
      'https://resource.example.com/.well-known/oauth-protected-resource',
    ],
    [
      'http://127.0.0.1:8080/api/v1/',
      '/.well-known/oauth-protected-resource/api/v1',
      'http://127.0.0.1:8080/.well-known/oauth-protected-resource/api/v1',
    ],
  ])('for %s is %s', (resource, path, url) => {
    const metadata = resolveResourceMetadata({
      resource,
      authorizationServers: ['https://as1.example.com'],
    })
    expect([metadata?.path, metadata?.url]).toEqual([path, url])
    // s3.3: `resource` is the identifier exactly as configured.
    expect(metadata?.document.resource).toBe(resource)
  })
})

describe('the 401 challenge (RFC 9728 s5.1)', () => {
  const url = 'https://resource.example.com/.well-known/oauth-protected-resource'
  const errors = createErrorFactory('api', { resourceMetadata: url })

  it('names the metadata URL in every 401 challenge, and only in those', () => {
    expect(errors.missingToken().headers['WWW-Authenticate']).toBe(
      `Bearer realm="api", resource_metadata="${url}"`,
    )
    expect(errors.invalidToken('expired').headers['WWW-Authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The token has expired", ' +
        `resource_metadata="${url}"`,
    )
    expect(errors.insufficientScope(['a']).headers['WWW-Authenticate']).not.toContain('resource')
    expect(errors.jwksUnavailable().headers['WWW-Authenticate']).not.toContain('resource')
    expect(createErrorFactory('api').missingToken().headers['WWW-Authenticate']).toBe(
      'Bearer realm="api"',
    )
  })

  it('comes from the verifier option, on the verifier rejections too', async () => {
    const key = await createKey('ES256')
    const verifier = createVerifier({
      issuers: [{ issuer: 'https://as1.example.com', audience: 'api', keys: jwks(key) }],
      resourceMetadata: {
        resource: 'https://resource.example.com',
        authorizationServers: ['https://as1.example.com'],
      },
    })
    expect(verifier.resourceMetadata?.url).toBe(url)
    const expired = await sign(key, {
      iss: 'https://as1.example.com',
      aud: 'api',
      sub: 'a',
      exp: Math.floor(Date.now() / 1000) - 600,
    })
    await expect(verifier.verify(expired)).rejects.toMatchObject({
      headers: {
        'WWW-Authenticate': expect.stringContaining(`resource_metadata="${url}"`) as string,
      },
    })
  })
})

describe('bad options, at start-up', () => {
  it.each([
    [
      { resource: 'http://api.example.com', authorizationServers: ['https://a.test'] },
      /resource must use https/,
    ],
    [
      { resource: 'https://api.example.com/#x', authorizationServers: ['https://a.test'] },
      /no query and no fragment/,
    ],
    [
      { resource: 'https://api.example.com/?q=1', authorizationServers: ['https://a.test'] },
      /no query and no fragment/,
    ],
    [
      { resource: 'https://api.example.com', authorizationServers: [] },
      /needs at least one issuer/,
    ],
    [
      { resource: 'https://api.example.com', authorizationServers: ['nope'] },
      /authorizationServers\[0\]/,
    ],
    [
      {
        resource: 'https://api.example.com',
        authorizationServers: ['https://a.test'],
        scopesSupported: ['a b'],
      },
      /scopesSupported\[0\]/,
    ],
    [
      {
        resource: 'https://api.example.com',
        authorizationServers: ['https://a.test'],
        bearerMethodsSupported: ['cookie'],
      },
      /bearerMethodsSupported\[0\]/,
    ],
    [
      {
        resource: 'https://api.example.com',
        authorizationServers: ['https://a.test'],
        scopes: ['a'],
      },
      /resourceMetadata\.scopes is not an option/,
    ],
  ])('refuses %j', (options, message) => {
    expect(() => resolveResourceMetadata(options)).toThrow(message)
  })
})
