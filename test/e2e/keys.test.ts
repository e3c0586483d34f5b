/**
 * End to end, for both frameworks: the provider's keys over time. Key rotation (the provider
 * restarts with a new key set), the provider going down once keys are cached, and the provider
 * being down when the API first needs its keys. The token cache is off so every request really
 * looks up a key, and the cooldown is 200 ms so recovery is quick.
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  createSigningKeys,
  FRAMEWORKS,
  issuerConfig,
  sleep,
  startApi,
  startProvider,
  type Api,
  type StartedProvider,
} from '../helpers/oidc.js'

const COOLDOWN_MS = 200

function kidOf(token: string): unknown {
  return (
    JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid?: unknown }
  ).kid
}

describe.each(FRAMEWORKS)(
  '%s example API when the provider keys change or the provider is down',
  (framework) => {
    const toClose: { close(): Promise<void> }[] = []
    const providers: StartedProvider[] = []

    async function provider(
      options: Parameters<typeof startProvider>[0] = {},
    ): Promise<StartedProvider> {
      const started = await startProvider(options)
      providers.push(started)
      return started
    }

    async function api(issuer: string, jwks: { cacheMaxAge?: number } = {}): Promise<Api> {
      const started = await startApi(framework, {
        issuers: [issuerConfig(issuer)],
        jwks: { cooldownDuration: COOLDOWN_MS, ...jwks },
        tokenCache: false,
      })
      toClose.push(started)
      return started
    }

    afterEach(async () => {
      for (const item of toClose.splice(0)) await item.close()
      for (const item of providers.splice(0)) await item.stop()
    })

    it('accepts tokens signed with a rotated-in key after one refetch, and old tokens while their key is published', async () => {
      const oldKeys = await createSigningKeys('old')
      const newKeys = await createSigningKeys('new')
      const before = await provider({ jwks: oldKeys })
      const app = await api(before.issuer)
      const oldToken = await before.token('orders-service')
      const oldRsToken = await before.token('reporting-job')
      expect((await app.get('/me', oldToken)).status).toBe(200)
      expect(before.hits('/jwks')).toBe(1)
      await before.stop()
      await sleep(COOLDOWN_MS + 50)

      // The same issuer (same port) restarts publishing new keys first (they sign) and the old ones.
      const after = await provider({
        port: before.port,
        jwks: { keys: [...newKeys.keys, ...oldKeys.keys] },
      })
      expect(after.issuer).toBe(before.issuer)
      const newToken = await after.token('orders-service')
      const newRsToken = await after.token('reporting-job')
      expect(kidOf(newToken)).not.toBe(kidOf(oldToken))
      expect(newKeys.keys.map((key) => key.kid)).toContain(kidOf(newToken))

      const accepted = await app.get('/me', newToken)
      expect(accepted.status).toBe(200)
      expect(accepted.body.key).toBe(`${after.issuer}|orders-service`)
      expect(after.hits('/jwks')).toBe(1)

      // The refetched set holds both generations: no further fetch for either.
      expect((await app.get('/me', newRsToken)).status).toBe(200)
      expect((await app.get('/me', oldToken)).status).toBe(200)
      expect((await app.get('/orders', oldToken)).status).toBe(200)
      expect((await app.get('/me', oldRsToken)).status).toBe(200)
      expect(after.hits('/jwks')).toBe(1)
      expect(
        app.log.lines.filter((line) => line.event === 'jwks_updated').length,
      ).toBeGreaterThanOrEqual(2)
    })

    it('rejects a token whose key the provider no longer publishes once the key set is refreshed', async () => {
      const oldKeys = await createSigningKeys('retired')
      const newKeys = await createSigningKeys('current')
      const before = await provider({ jwks: oldKeys })
      const app = await api(before.issuer, { cacheMaxAge: 100 })
      const oldToken = await before.token('orders-service')
      expect((await app.get('/me', oldToken)).status).toBe(200)
      await before.stop()

      const after = await provider({ port: before.port, jwks: newKeys })
      const newToken = await after.token('orders-service')
      await sleep(COOLDOWN_MS + 50) // past cacheMaxAge and the cooldown: an unknown kid may refetch
      expect((await app.get('/me', newToken)).status).toBe(200)
      expect(after.hits('/jwks')).toBe(1)

      const response = await app.get('/me', oldToken)
      expect(response.status).toBe(401)
      expect(response.body).toEqual({
        error: 'invalid_token',
        error_description: 'No key of the issuer matches the token',
      })
      expect(response.text.includes(oldToken)).toBe(false)
      // Within the cooldown, the unknown kid costs the provider no request.
      expect(after.hits('/jwks')).toBe(1)
      // Honest twin: the same client's token signed with a published key passes.
      expect((await app.get('/me', newToken)).status).toBe(200)
    })

    it('keeps serving from cached keys while the provider is down', async () => {
      const issuerSide = await provider()
      const app = await api(issuerSide.issuer, { cacheMaxAge: 100 })
      const first = await issuerSide.token('orders-service')
      const second = await issuerSide.token('orders-service')
      const rsToken = await issuerSide.token('reporting-job')
      expect((await app.get('/me', first)).status).toBe(200)
      await issuerSide.stop()

      // Tokens not seen before, past cacheMaxAge: the refresh fails, the cached keys keep serving.
      await sleep(150)
      const response = await app.get('/orders', second)
      expect(response.status).toBe(200)
      expect(response.body.caller).toBe(`${issuerSide.issuer}|orders-service`)
      expect((await app.get('/me', rsToken)).status).toBe(200)
      expect((await app.get('/me', first)).status).toBe(200)
    })

    it('answers 503 while the provider is down from a cold start, and recovers when it is back', async () => {
      const keys = await createSigningKeys('cold')
      const down = await provider({ jwks: keys })
      const token = await down.token('orders-service')
      await down.stop()
      const app = await api(down.issuer)

      const unavailable = await app.get('/me', token)
      expect(unavailable.status).toBe(503)
      expect(unavailable.body).toEqual({
        error: 'jwks_unavailable',
        error_description: 'The issuer keys cannot be retrieved right now',
      })
      expect(unavailable.headers['www-authenticate']).toBe(
        'Bearer realm="api", error="jwks_unavailable", error_description="The issuer keys cannot be retrieved right now"',
      )
      expect(unavailable.text.includes(token)).toBe(false)
      // A public route is still served: only a request that needs keys waits for the provider.
      expect((await app.get('/health')).status).toBe(200)

      const back = await provider({ port: down.port, jwks: keys })
      await sleep(COOLDOWN_MS + 50)
      const recovered = await app.get('/me', token)
      expect(recovered.status).toBe(200)
      expect(recovered.body.key).toBe(`${back.issuer}|orders-service`)
      expect(back.hits('/.well-known/openid-configuration')).toBe(1)
      expect(back.hits('/jwks')).toBe(1)
    })
  },
)
