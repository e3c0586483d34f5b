import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createVerifier, type Verifier } from '../src/verifier.js'
import { indexIssuers, issuerHint, REJECTION_LOG_LINES } from '../src/rejections.js'
import { createKey, jwks, nowSeconds, sign, type TestKey } from '../../../test/helpers/keys.js'
import { captureLogger, type CapturedLogger } from '../../../test/helpers/log.js'
import { createTestClock, withClock } from '../../../test/helpers/clock.js'

const ISSUER = 'https://issuer.test'
const AUDIENCE = 'https://api.test'

let key: TestKey
let other: TestKey

beforeAll(async () => {
  key = await createKey('ES256')
  other = await createKey('ES256', { kid: key.kid })
})

afterEach(() => {
  vi.useRealTimers()
})

function setup(level = 'debug'): { verifier: Verifier; log: CapturedLogger } {
  const log = captureLogger(level)
  const verifier = createVerifier({
    issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: jwks(key) }],
    logger: log.logger,
  })
  return { verifier, log }
}

function token(claims: Record<string, unknown> = {}, signer = key): Promise<string> {
  return sign(signer, { iss: ISSUER, aud: AUDIENCE, sub: 'alice', ...claims })
}

const debugLines = (log: CapturedLogger) => log.lines.filter((line) => line.level === 20)

describe('every rejection at debug', () => {
  it('logs code and reason of an expired, a wrong-audience and a forged token, never the token', async () => {
    const { verifier, log } = setup()
    const tokens = [
      await token({ exp: nowSeconds() - 600 }),
      await token({ aud: 'https://elsewhere.test' }),
      await token({}, other),
    ]
    for (const jwt of tokens) await expect(verifier.verify(jwt, { reqId: 'r1' })).rejects.toThrow()
    expect(debugLines(log)).toMatchObject([
      { event: 'token_rejected', code: 'invalid_token', reason: 'expired', reqId: 'r1' },
      { event: 'token_rejected', code: 'invalid_token', reason: 'audience_mismatch' },
      { event: 'token_rejected', code: 'invalid_token', reason: 'bad_signature', status: 401 },
    ])
    for (const jwt of tokens) {
      for (const line of log.raw) {
        expect(line).not.toContain(jwt)
        expect(line).not.toContain(jwt.split('.')[2])
      }
    }
    // The honest twin passes and leaves no rejection line.
    await expect(verifier.verify(await token())).resolves.toMatchObject({ subject: 'alice' })
    expect(debugLines(log)).toHaveLength(3)
  })

  it('logs a malformed Authorization header from authenticate and from authenticateCached', async () => {
    const { verifier, log } = setup()
    await expect(verifier.authenticate(['Bearer a', 'Bearer b'])).rejects.toThrow()
    expect(() => verifier.authenticateCached('Bearer a b')).toThrow()
    expect(debugLines(log)).toMatchObject([
      { code: 'invalid_request', reason: 'multiple_authorization_headers' },
      { code: 'invalid_request', reason: 'malformed_authorization_header' },
    ])
  })

  it('samples a flood: a bounded number of lines per window, the rest counted as suppressed', async () => {
    // The sampling window runs on the monotonic clock (issue 9, item 11): an injected one here.
    vi.useFakeTimers({ toFake: ['Date'] })
    const clock = createTestClock(Date.now())
    clock.at(0)
    const log = captureLogger('debug')
    const verifier = createVerifier(
      withClock(
        { issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: jwks(key) }], logger: log.logger },
        clock,
      ),
    )
    const bad = await token({}, other)
    for (let i = 0; i < 50; i++) await expect(verifier.verify(bad)).rejects.toThrow()
    expect(debugLines(log)).toHaveLength(REJECTION_LOG_LINES)
    clock.at(5000)
    await expect(verifier.verify(bad)).rejects.toThrow()
    expect(debugLines(log).at(-1)).toMatchObject({ suppressed: 50 - REJECTION_LOG_LINES })
  })

  it('writes nothing, and samples nothing, when the logger is at info', async () => {
    const { verifier, log } = setup('info')
    for (let i = 0; i < 20; i++) {
      await expect(verifier.verify(await token({ exp: nowSeconds() - 600 }))).rejects.toThrow()
    }
    expect(log.lines).toEqual([])
  })

  it('works with a logger that has no debug method', async () => {
    const warnings: object[] = []
    const verifier = createVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: jwks(key) }],
      logger: { info: () => undefined, warn: (o) => warnings.push(o), error: () => undefined },
    })
    await expect(verifier.verify(await token({}, other))).rejects.toMatchObject({
      reason: 'bad_signature',
    })
  })
})

describe('the hint for an untrusted issuer that nearly matches', () => {
  it.each([
    ['https://issuer.test/', 'a trailing slash'],
    ['http://issuer.test', 'the scheme'],
    ['https://Issuer.TEST', 'the case'],
    ['https://issuer.test:8443', 'the port'],
    ['HTTP://issuer.test:443/', 'a trailing slash and the scheme and the port'],
    ['HTTPS://issuer.test/', 'a trailing slash and the case'],
  ])('says %s differs only by %s, and still refuses it', async (iss, difference) => {
    const { verifier, log } = setup('warn')
    await expect(verifier.verify(await token({ iss }))).rejects.toMatchObject({
      reason: 'untrusted_issuer',
    })
    const [line] = log.lines
    expect(line).toMatchObject({ event: 'untrusted_issuer', iss })
    expect(line?.hint).toBe(
      `iss differs from the configured issuer ${ISSUER} only by ${difference}; issuers match ` +
        'exactly: configure the spelling the tokens carry',
    )
  })

  it('gives no hint for another issuer', async () => {
    const { verifier, log } = setup('warn')
    for (const iss of ['https://evil.test', 'https://issuer.test.evil', 'https://issuer.test/x']) {
      await expect(verifier.verify(await token({ iss }))).rejects.toThrow()
    }
    expect(log.lines.map((line) => line.hint)).toEqual([undefined, undefined, undefined])
  })

  it('compares against every configured spelling, and ignores non-strings', () => {
    const index = indexIssuers(['https://a.test/tenant/', 'https://b.test'])
    expect(issuerHint('https://a.test/tenant', index)).toContain('https://a.test/tenant/')
    expect(issuerHint('https://B.test', index)).toContain('only by the case')
    expect(issuerHint(42, index)).toBeUndefined()
    expect(issuerHint('https://b.test', index)).toBeUndefined()
  })
})
