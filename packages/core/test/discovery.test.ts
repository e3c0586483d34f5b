import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { discoverJwksUri, discoveryUrl } from '../src/discovery.js'
import { FetchError } from '../src/fetch.js'
import { startServer, type TestServer } from '../../../test/helpers/server.js'

let server: TestServer
const path = '/.well-known/openid-configuration'

beforeAll(async () => {
  server = await startServer()
})

afterAll(async () => {
  await server.close()
})

describe('discoveryUrl', () => {
  it('appends the well-known path, with or without a trailing slash (OIDC Discovery s4.1)', () => {
    expect(discoveryUrl('https://idp.example').href).toBe(
      'https://idp.example/.well-known/openid-configuration',
    )
    expect(discoveryUrl('https://idp.example/').href).toBe(
      'https://idp.example/.well-known/openid-configuration',
    )
    expect(discoveryUrl('https://idp.example/tenant').href).toBe(
      'https://idp.example/tenant/.well-known/openid-configuration',
    )
  })
})

describe('discoverJwksUri', () => {
  it('returns the jwks_uri of metadata whose issuer is exactly ours', async () => {
    server.route(path, {
      kind: 'json',
      body: { issuer: server.origin, jwks_uri: `${server.origin}/jwks` },
    })
    const url = await discoverJwksUri(server.origin, 2000)
    expect(url.href).toBe(`${server.origin}/jwks`)
  })

  it('fails on metadata naming another issuer, even one differing only in case or a slash', async () => {
    for (const issuer of [
      `${server.origin}/`,
      server.origin.toUpperCase(),
      'https://other.example',
    ]) {
      server.route(path, { kind: 'json', body: { issuer, jwks_uri: `${server.origin}/jwks` } })
      await expect(discoverJwksUri(server.origin, 2000)).rejects.toThrow(/another issuer/)
    }
  })

  it('fails on a jwks_uri over http: to a non-loopback host, or not a URL', async () => {
    server.route(path, {
      kind: 'json',
      body: { issuer: server.origin, jwks_uri: 'http://idp.example/jwks' },
    })
    await expect(discoverJwksUri(server.origin, 2000)).rejects.toThrow(/https/)
    server.route(path, { kind: 'json', body: { issuer: server.origin } })
    await expect(discoverJwksUri(server.origin, 2000)).rejects.toBeInstanceOf(FetchError)
  })

  it('fails on metadata that is not a JSON object', async () => {
    server.route(path, { kind: 'json', body: [server.origin] })
    await expect(discoverJwksUri(server.origin, 2000)).rejects.toThrow(/not a JSON object/)
  })
})
