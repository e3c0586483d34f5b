/**
 * The README's "Your identity provider" configurations, run as written: each file of
 * readme-providers/ is pasted verbatim into the README, and here its config (imported from the
 * built adapter package, as a user would) verifies the provider's honest token from the local IdP
 * of test/helpers/providers.ts and refuses its typical wrong one. The only change is where the
 * keys are fetched from (`discoveryUrl` or `jwksUri` pointed at 127.0.0.1).
 */
import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { createVerifier, type IssuerConfig } from '@trustgate/core'
import { expectRejection, invalidToken } from '../helpers/auth-error.js'
import { captureLogger } from '../helpers/log.js'
import { startProviders, type ProviderFixture } from '../helpers/providers.js'
import { startServer } from '../helpers/server.js'
import { createKey, jwks, sign } from '../helpers/keys.js'
import { issuer as auth0 } from './readme-providers/auth0.js'
import { issuer as clerk } from './readme-providers/clerk.js'
import { issuer as cognito } from './readme-providers/cognito.js'
import { customers, issuer as entraMulti } from './readme-providers/entra-id-multi.js'
import { issuer as entra } from './readme-providers/entra-id.js'
import { issuer as firebase } from './readme-providers/firebase.js'
import { issuer as google } from './readme-providers/google.js'
import { issuer as keycloak } from './readme-providers/keycloak.js'
import { issuer as okta } from './readme-providers/okta.js'
import { options as resolving, tenants } from './readme-providers/resolve-issuer.js'

const providers = await startProviders()
afterAll(() => providers.close())

const CONFIGS: readonly [file: string, fixture: string, config: IssuerConfig][] = [
  ['auth0', 'Auth0', auth0],
  ['okta', 'Okta', okta],
  ['entra-id', 'Entra ID (single tenant)', entra],
  ['entra-id-multi', 'Entra ID (multi-tenant, common)', entraMulti],
  ['cognito', 'Cognito (access tokens)', cognito],
  ['keycloak', 'Keycloak', keycloak],
  ['google', 'Google', google],
  ['firebase', 'Firebase', firebase],
  ['clerk', 'Clerk', clerk],
]

/** The README's config with its key source pointed where the fixture's is. */
function local(config: IssuerConfig, fixture: ProviderFixture): IssuerConfig {
  const { discoveryUrl, jwksUri } = fixture.issuer
  if (discoveryUrl !== undefined) return { ...config, discoveryUrl }
  if (jwksUri !== undefined) return { ...config, jwksUri }
  throw new Error(`${fixture.name} has no local key source`)
}

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const source = (file: string) =>
  readFileSync(new URL(`./readme-providers/${file}.ts`, import.meta.url), 'utf8')

describe.each(CONFIGS)('README: %s', (file, name, config) => {
  const fixture = providers.fixtures.find((f) => f.name === name) as ProviderFixture

  it('is shown in the README exactly as this test runs it', () => {
    expect(readme).toContain('```ts\n' + source(file) + '```')
  })

  it("accepts the provider's honest token and refuses its typical wrong one", async () => {
    const verifier = createVerifier({
      issuers: [local(config, fixture)],
      logger: captureLogger().logger,
    })
    const honest = fixture.honest[0]
    const wrong = fixture.wrong[0]
    if (honest === undefined || wrong === undefined) throw new Error(`${name} has no cases`)
    await expect(verifier.verify(honest.token)).resolves.toMatchObject({ key: honest.key })
    await expectRejection(verifier.verify(wrong.token), invalidToken(wrong.reason), wrong.token)
  })
})

describe('README: entra-id-multi', () => {
  it('stops a tenant removed from the set on its next request', async () => {
    const fixture = providers.fixtures.find(
      (f) => f.name === 'Entra ID (multi-tenant, common)',
    ) as ProviderFixture
    const verifier = createVerifier({
      issuers: [local(entraMulti, fixture)],
      logger: captureLogger().logger,
    })
    const token = fixture.honest[0]?.token as string
    await expect(verifier.verify(token)).resolves.toBeDefined()
    customers.delete(providers.entra.tenant)
    try {
      await expectRejection(verifier.verify(token), invalidToken('untrusted_issuer'), token)
    } finally {
      customers.add(providers.entra.tenant)
    }
  })
})

describe('README: resolve-issuer', () => {
  it('is shown in the README exactly as this test runs it', () => {
    expect(readme).toContain('```ts\n' + source('resolve-issuer') + '```')
  })

  it("accepts a customer's issuer once it is in the table", async () => {
    const key = await createKey('ES256')
    const customer = await startServer()
    customer.route('/.well-known/openid-configuration', {
      kind: 'json',
      body: { issuer: customer.origin, jwks_uri: `${customer.origin}/jwks` },
    })
    customer.route('/jwks', { kind: 'json', body: jwks(key) })
    const verifier = createVerifier({ ...resolving, logger: captureLogger().logger })
    tenants.set(customer.origin, { audience: 'orders' })
    try {
      const token = await sign(key, { iss: customer.origin, sub: 'u', aud: 'orders' })
      await expect(verifier.verify(token)).resolves.toMatchObject({ issuer: customer.origin })
      const stranger = await sign(key, { iss: `${customer.origin}/x`, sub: 'u', aud: 'orders' })
      await expectRejection(verifier.verify(stranger), invalidToken('untrusted_issuer'), stranger)
    } finally {
      tenants.clear()
      await customer.close()
    }
  })
})
