import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { Observer, VERIFY_CHANNEL, type VerifyMessage } from '../src/observe.js'
import { createVerifier, type Verifier } from '../src/verifier.js'
import { createKey, jwks, nowSeconds, sign, type TestKey } from '../../../test/helpers/keys.js'
import { captureLogger } from '../../../test/helpers/log.js'

const ISS = 'https://issuer.test'

let key: TestKey
let verifier: Verifier
const messages: VerifyMessage[] = []
const listener = (message: unknown): void => {
  messages.push(message as VerifyMessage)
}

beforeAll(async () => {
  key = await createKey('ES256')
  verifier = createVerifier({
    logger: captureLogger().logger,
    issuers: [{ issuer: ISS, audience: 'api', keys: jwks(key) }],
  })
})

afterEach(() => {
  unsubscribe(VERIFY_CHANNEL, listener)
  messages.length = 0
  vi.restoreAllMocks()
})

function token(claims: Record<string, unknown> = {}): Promise<string> {
  return sign(key, { iss: ISS, aud: 'api', sub: 'alice', scope: 'secret-scope', ...claims })
}

/** The message carries none of the token's content: no token, no claim value, no header value. */
function expectNothingOf(message: VerifyMessage, jwt: string): void {
  const text = JSON.stringify(message)
  for (const part of [jwt, ...jwt.split('.'), 'alice', 'secret-scope', key.kid]) {
    expect(text).not.toContain(part)
  }
}

describe('the trustgate:verify channel', () => {
  it('publishes an accepted token once, then the cache hit, with the configured issuer', async () => {
    subscribe(VERIFY_CHANNEL, listener)
    const jwt = await token()
    await verifier.verify(jwt)
    await verifier.verify(jwt)
    expect(verifier.authenticateCached(`Bearer ${jwt}`)).not.toBeUndefined()
    expect(messages).toEqual([
      {
        issuer: ISS,
        outcome: 'accepted',
        code: null,
        reason: null,
        cached: false,
        durationMs: expect.any(Number),
      },
      expect.objectContaining({ issuer: ISS, outcome: 'accepted', cached: true }),
      expect.objectContaining({ issuer: ISS, outcome: 'accepted', cached: true }),
    ])
    for (const message of messages) {
      expect(message.durationMs).toBeGreaterThanOrEqual(0)
      expectNothingOf(message, jwt)
    }
  })

  it('publishes a refusal with its code and reason, and the issuer it was checked against', async () => {
    subscribe(VERIFY_CHANNEL, listener)
    const jwt = await token({ exp: nowSeconds() - 600 })
    await expect(verifier.verify(jwt)).rejects.toMatchObject({ reason: 'expired' })
    expect(messages).toEqual([
      {
        issuer: ISS,
        outcome: 'refused',
        code: 'invalid_token',
        reason: 'expired',
        cached: false,
        durationMs: expect.any(Number),
      },
    ])
    expectNothingOf(messages[0]!, jwt)
  })

  it('never publishes the iss of an untrusted token: the issuer is null', async () => {
    subscribe(VERIFY_CHANNEL, listener)
    const jwt = await token({ iss: 'https://attacker-chosen-label.test' })
    await expect(verifier.verify(jwt)).rejects.toMatchObject({ reason: 'untrusted_issuer' })
    expect(messages).toEqual([
      expect.objectContaining({ issuer: null, outcome: 'refused', reason: 'untrusted_issuer' }),
    ])
    expect(JSON.stringify(messages)).not.toContain('attacker-chosen-label')
  })

  it('publishes a malformed Authorization header, from both entry points, once each', async () => {
    subscribe(VERIFY_CHANNEL, listener)
    expect(() => verifier.authenticateCached('Bearer a b')).toThrow()
    await expect(verifier.authenticate(['Bearer a', 'Bearer b'])).rejects.toMatchObject({
      code: 'invalid_request',
    })
    expect(messages.map((m) => [m.issuer, m.code, m.reason])).toEqual([
      [null, 'invalid_request', 'malformed_authorization_header'],
      [null, 'invalid_request', 'multiple_authorization_headers'],
    ])
  })

  it('publishes nothing for a request without a token', async () => {
    subscribe(VERIFY_CHANNEL, listener)
    expect(verifier.authenticateCached(undefined)).toBeNull()
    await expect(verifier.authenticate(undefined)).resolves.toBeNull()
    expect(messages).toEqual([])
  })

  it('costs nothing without a subscriber: no trace, no message', async () => {
    const jwt = await token()
    const trace = vi.spyOn(Observer.prototype, 'trace')
    const settle = vi.spyOn(Observer.prototype, 'settle')
    await verifier.verify(jwt)
    verifier.authenticateCached(`Bearer ${jwt}`)
    await expect(verifier.verify(await token({ exp: nowSeconds() - 600 }))).rejects.toThrow()
    expect(() => verifier.authenticateCached('Bearer a b')).toThrow()
    expect(trace).not.toHaveBeenCalled()
    expect(settle).not.toHaveBeenCalled()
    expect(messages).toEqual([])
    // The honest twin: with a subscriber, the same calls trace and publish.
    subscribe(VERIFY_CHANNEL, listener)
    await verifier.verify(jwt)
    expect(trace).toHaveBeenCalledTimes(1)
    expect(messages).toHaveLength(1)
  })
})
