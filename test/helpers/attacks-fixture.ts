/**
 * The world of the attack catalogue: a trusted identity provider (a real JWKS endpoint on
 * 127.0.0.1), an attacker's server that counts every request it gets, a legacy HMAC issuer, a
 * static-keys issuer, and the three paths of {@link createHarness} configured to trust them.
 */
import type { VerifierOptions } from '@trustgate/core'
import { createHarness, type Harness } from './attacks.js'
import { createKey, jwks, type TestKey } from './keys.js'
import { captureLogger, type CapturedLogger } from './log.js'
import { startServer, type TestServer } from './server.js'

export const SECRET = 'the legacy issuer shares this HMAC secret of 32+ bytes'
export const HMAC_ISS = 'https://legacy.test'
export const STATIC_ISS = 'https://static.test'
export const AUDIENCE = 'api'

export interface AttackWorld {
  readonly idp: TestServer
  readonly attacker: TestServer
  /** The trusted remote issuer: the IdP's origin. */
  readonly iss: string
  /** Keys the IdP publishes. */
  readonly rs: TestKey
  readonly rs2: TestKey
  readonly es: TestKey
  readonly ed: TestKey
  /** The static issuer's key. */
  readonly staticKey: TestKey
  /** The attacker's own keys; `evilTwin` has the kid of `rs`. */
  readonly evil: TestKey
  readonly evilTwin: TestKey
  readonly log: CapturedLogger
  readonly harness: Harness
  readonly options: VerifierOptions
  /** Claims for the trusted remote issuer, with `extra` merged in. */
  claims(extra?: Record<string, unknown>): Record<string, unknown>
  close(): Promise<void>
}

export async function createAttackWorld(
  overrides: (world: { iss: string; staticKey: TestKey }) => Partial<VerifierOptions> = () => ({}),
): Promise<AttackWorld> {
  const [idp, attacker] = await Promise.all([startServer(), startServer()])
  const [rs, rs2, es, ed, staticKey, evil] = await Promise.all([
    createKey('RS256'),
    createKey('RS256'),
    createKey('ES256'),
    createKey('EdDSA'),
    createKey('EdDSA'),
    createKey('RS256', { kid: 'attacker-key' }),
  ])
  const evilTwin = await createKey('RS256', { kid: rs.kid })
  idp.route('/jwks', { kind: 'json', body: jwks(rs, rs2, es, ed) })
  attacker.route('/jwks', { kind: 'json', body: jwks(evil, evilTwin) })
  attacker.route('/x5u', {
    kind: 'raw',
    body: 'certificate',
    contentType: 'application/pem-certificate-chain',
  })
  const iss = idp.origin
  const log = captureLogger()
  const options: VerifierOptions = {
    logger: log.logger,
    issuers: [
      { issuer: iss, audience: AUDIENCE, jwksUri: `${iss}/jwks` },
      { issuer: HMAC_ISS, audience: AUDIENCE, secret: SECRET },
      { issuer: STATIC_ISS, audience: AUDIENCE, keys: jwks(staticKey) },
    ],
    ...overrides({ iss, staticKey }),
  }
  const harness = await createHarness(options)
  return {
    idp,
    attacker,
    iss,
    rs,
    rs2,
    es,
    ed,
    staticKey,
    evil,
    evilTwin,
    log,
    harness,
    options,
    claims: (extra = {}) => ({ iss, sub: 'alice', aud: AUDIENCE, ...extra }),
    async close() {
      await harness.close()
      await Promise.all([idp.close(), attacker.close()])
    },
  }
}
