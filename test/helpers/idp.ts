/**
 * The identity provider of the adapter tests: a real JWKS server on 127.0.0.1 with one ES256 key,
 * and the URL of one that is down (a port just closed, which refuses connections).
 */
import { createKey, jwks, type TestKey } from './keys.js'
import { startServer, type TestServer } from './server.js'

export interface TestIdp {
  readonly idp: TestServer
  readonly key: TestKey
  readonly jwksUri: string
  readonly downJwksUri: string
}

export async function startTestIdp(): Promise<TestIdp> {
  const key = await createKey('ES256')
  const idp = await startServer()
  idp.route('/jwks', { kind: 'json', body: jwks(key) })
  const down = await startServer()
  const downJwksUri = `${down.origin}/jwks`
  await down.close()
  return { idp, key, jwksUri: `${idp.origin}/jwks`, downJwksUri }
}
