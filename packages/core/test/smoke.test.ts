import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier } from '../src/index.js'
import { createKey, jwks, sign, type TestKey } from '../../../test/helpers/keys.js'
import { startServer, type TestServer } from '../../../test/helpers/server.js'
import { captureLogger } from '../../../test/helpers/log.js'

describe('smoke', () => {
  let server: TestServer
  let rsa: TestKey
  beforeAll(async () => {
    server = await startServer()
    rsa = await createKey('RS256')
    server.route('/jwks', { kind: 'json', body: jwks(rsa) })
  })
  afterAll(() => server.close())

  it('verifies a token against a served JWKS', async () => {
    const { logger } = captureLogger()
    const verifier = createVerifier({
      issuers: [{ issuer: 'https://idp.test', audience: 'api', jwksUri: `${server.origin}/jwks` }],
      logger,
    })
    const token = await sign(rsa, { iss: 'https://idp.test', aud: 'api', sub: 'u1', scope: 'a b' })
    const principal = await verifier.verify(token)
    expect(principal.key).toBe('https://idp.test|u1')
    expect(principal.scopes).toEqual(['a', 'b'])
    expect(server.hits('/jwks')).toBe(1)
  })
})
