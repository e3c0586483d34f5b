import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jwtAuth, type FastifyJwtAuthOptions } from '../src/index.js'
import { startTestIdp } from '../../../test/helpers/idp.js'
import { captureLogger } from '../../../test/helpers/log.js'
import type { TestServer } from '../../../test/helpers/server.js'

const ISSUER = 'https://issuer.test'
const DOWN = 'https://down.test'

let idp: TestServer
let jwksUri: string
let downJwksUri: string

beforeAll(async () => {
  ;({ idp, jwksUri, downJwksUri } = await startTestIdp())
})
afterAll(() => idp.close())

async function start(options: Partial<FastifyJwtAuthOptions>, down = false) {
  const app = Fastify({ loggerInstance: captureLogger().logger })
  await app.register(jwtAuth, {
    issuers: [
      { issuer: ISSUER, audience: 'api', jwksUri },
      ...(down ? [{ issuer: DOWN, audience: 'api', jwksUri: downJwksUri }] : []),
    ],
    ...options,
  })
  return app
}

describe('waitForKeys', () => {
  it('makes app.ready() wait until the keys are loaded', async () => {
    idp.resetHits()
    const app = await start({ waitForKeys: true })
    await app.ready()
    expect(idp.hits('/jwks')).toBe(1)
    expect(app.trustgate.health()).toMatchObject({ ready: true, issuers: [{ state: 'fresh' }] })
    await app.close()
  })

  it('fails app.ready() naming the issuer whose keys cannot be had', async () => {
    const app = await start({ waitForKeys: { timeout: 2000 } }, true)
    await expect(app.ready()).rejects.toThrow(`the keys of "${DOWN}" could not be loaded`)
    await app.close()
  })

  it('is off by default: no fetch before the first request', async () => {
    idp.resetHits()
    const app = await start({})
    await app.ready()
    expect(idp.hits()).toBe(0)
    expect(app.trustgate.health().ready).toBe(false)
    await app.close()
  })

  it.each([
    [{ waitForKeys: 'yes' }, 'trustgate: waitForKeys must be a boolean or { timeout }'],
    [{ waitForKeys: { timeout: 0 } }, 'trustgate: waitForKeys.timeout must be an integer'],
    [{ waitForKeys: { timout: 10 } }, 'trustgate: waitForKeys.timout is not an option'],
  ])('refuses a bad option at registration: %j', async (options, message) => {
    await expect(start(options as Partial<FastifyJwtAuthOptions>)).rejects.toThrow(message)
  })
})
