import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkJwksUri, discoverJwksUri, discoveryUrl } from '../src/discovery.js'
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

describe('checkJwksUri (issue 9, item 9)', () => {
  const at = (href: string): URL => new URL(href)

  it('refuses a jwks_uri that would send an https: issuer to the API host or over clear text', () => {
    const source = at('https://login.idp.example/.well-known/openid-configuration')
    for (const jwksUri of [
      'http://localhost/jwks',
      'http://127.0.0.1:8080/jwks',
      'http://[::1]/jwks',
      'http://keys.idp.example/jwks',
    ]) {
      expect(checkJwksUri(source, jwksUri)).toMatch(/must use https:/)
    }
    for (const jwksUri of ['https://localhost/jwks', 'https://127.0.0.2/jwks']) {
      expect(checkJwksUri(source, jwksUri)).toMatch(/must not name a loopback host/)
    }
    // The honest twins: an https: URL elsewhere, on the issuer's host or another one.
    expect(checkJwksUri(source, 'https://login.idp.example/keys')).toBeInstanceOf(URL)
    expect(checkJwksUri(source, 'https://keys.cdn.example/jwks')).toBeInstanceOf(URL)
  })

  it('lets metadata served over http: on loopback (a development issuer) name a loopback http: jwks_uri', () => {
    const source = at('http://127.0.0.1:4000/.well-known/openid-configuration')
    expect(checkJwksUri(source, 'http://localhost:4000/jwks')).toBeInstanceOf(URL)
    expect(checkJwksUri(source, 'https://keys.idp.example/jwks')).toBeInstanceOf(URL)
    expect(checkJwksUri(source, 'http://keys.idp.example/jwks')).toMatch(/https/)
    // Loopback https: metadata (a local TLS setup) may name its own host, over https: only.
    const tls = at('https://localhost:8443/.well-known/openid-configuration')
    expect(checkJwksUri(tls, 'https://localhost:8443/jwks')).toBeInstanceOf(URL)
    expect(checkJwksUri(tls, 'http://localhost:8080/jwks')).toMatch(/https/)
  })
})
