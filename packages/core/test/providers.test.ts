/**
 * providers/: what each preset returns (a plain IssuerConfig the verifier accepts as it is) and
 * how it refuses bad input at start-up. Their tokens are tested end to end in
 * test/e2e/providers.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { createVerifier } from '../src/verifier.js'
import {
  auth0,
  clerk,
  cognito,
  entraId,
  firebase,
  google,
  keycloak,
  okta,
} from '../src/providers/index.js'
import type { IssuerConfig } from '../src/issuer-config.js'
import { captureLogger } from '../../../test/helpers/log.js'
import { createKey, jwks, nowSeconds, sign } from '../../../test/helpers/keys.js'
import { expectRejection, invalidToken } from '../../../test/helpers/auth-error.js'

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'

function accepted(config: IssuerConfig): void {
  expect(() => createVerifier({ issuers: [config], logger: captureLogger().logger })).not.toThrow()
}

describe('provider presets', () => {
  it('auth0: trailing-slash issuer, discovery, scope and permissions', () => {
    const config = auth0({ domain: 'my-tenant.us.auth0.com', audience: 'https://api.example.com' })
    expect(config).toEqual({
      issuer: 'https://my-tenant.us.auth0.com/',
      audience: ['https://api.example.com'],
      discovery: true,
      scopeClaims: ['scope', 'permissions'],
    })
    accepted(config)
    expect(() => auth0({ domain: 'https://my-tenant.auth0.com', audience: 'a' })).toThrow(
      'trustgate: auth0().domain must be a host name such as my-tenant.us.auth0.com',
    )
  })

  it('okta: scp, and clientIds as a cid rule', () => {
    const config = okta({
      issuer: 'https://dev-1.okta.com/oauth2/default',
      audience: 'api://default',
      clientIds: ['0oa1'],
    })
    expect(config).toMatchObject({ scopeClaims: ['scp'], claims: { cid: ['0oa1'] } })
    accepted(config)
    expect(() => okta({ issuer: 'http://dev-1.okta.com', audience: 'a' })).toThrow(
      'trustgate: okta().issuer must use https:',
    )
  })

  it('entraId: v2 and v1 spellings, tid, scp and roles; templates with tenants for common', () => {
    const single = entraId({ tenant: TENANT, audience: 'api://orders' })
    expect(single).toMatchObject({
      issuer: [
        `https://login.microsoftonline.com/${TENANT}/v2.0`,
        `https://sts.windows.net/${TENANT}/`,
      ],
      scopeClaims: ['scp', 'roles'],
      claims: { tid: TENANT },
    })
    accepted(single)
    const multi = entraId({ tenant: 'common', audience: 'api://orders', tenants: () => true })
    expect(multi).toMatchObject({
      issuer: [
        'https://login.microsoftonline.com/{tenantid}/v2.0',
        'https://sts.windows.net/{tenantid}/',
      ],
      discoveryTenant: 'common',
    })
    accepted(multi)
    expect(() => entraId({ tenant: 'common', audience: 'a' })).toThrow(
      "trustgate: entraId().tenants is required with tenant 'common'",
    )
    expect(() => entraId({ tenant: 'contoso', audience: 'a' })).toThrow(
      "entraId().tenant must be a tenant id (a GUID), 'common' or 'organizations'",
    )
  })

  it('cognito: access tokens by client_id and token_use, ID tokens by aud and token_use', () => {
    const common = { region: 'eu-west-1', userPoolId: 'eu-west-1_AbC123', clientIds: ['c1'] }
    const access = cognito({ ...common, tokenUse: 'access' })
    expect(access).toMatchObject({
      issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123',
      jwksUri: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json',
      audience: null,
      clientIds: ['c1'],
      claims: { token_use: 'access' },
    })
    expect(cognito({ ...common, tokenUse: 'id' })).toMatchObject({
      audience: ['c1'],
      claims: { token_use: 'id' },
    })
    accepted(access)
    expect(() => cognito({ ...common, tokenUse: 'refresh' as never })).toThrow(
      "cognito().tokenUse must be 'access' or 'id'",
    )
    expect(() => cognito({ ...common, userPoolId: 'us-east-1_AbC123', tokenUse: 'id' })).toThrow(
      'cognito().userPoolId must be a pool of region eu-west-1',
    )
  })

  it('keycloak, google, firebase, clerk', () => {
    expect(keycloak({ url: 'https://sso.test/', realm: 'acme', audience: 'api' })).toMatchObject({
      issuer: 'https://sso.test/realms/acme',
      claims: { typ: 'Bearer' },
    })
    expect(
      google({ audience: 'c.apps.googleusercontent.com', hostedDomain: 'example.com' }),
    ).toMatchObject({
      issuer: ['https://accounts.google.com', 'accounts.google.com'],
      claims: { hd: 'example.com' },
    })
    expect(firebase({ projectId: 'my-project' })).toMatchObject({
      issuer: 'https://securetoken.google.com/my-project',
      audience: 'my-project',
    })
    expect(clerk({ issuer: 'https://clerk.example.com' })).toMatchObject({
      issuer: 'https://clerk.example.com',
      audience: null,
      jwksUri: 'https://clerk.example.com/.well-known/jwks.json',
    })
    for (const config of [
      keycloak({ url: 'http://localhost:8080', realm: 'dev', audience: 'api' }),
      google({ audience: 'c' }),
      firebase({ projectId: 'p', tenant: ['t1'] }),
      clerk({ issuer: 'https://clerk.example.com', authorizedParties: ['https://app.test'] }),
    ]) {
      accepted(config)
    }
    expect(() => clerk({ issuer: 'clerk.example.com' })).toThrow(
      'clerk().issuer must be an absolute URL',
    )
    expect(() => google({ audience: [] })).toThrow('google().audience is required')
  })

  it('returns plain objects that a user may spread and override', () => {
    const config = { ...auth0({ domain: 'a.auth0.com', audience: 'api' }), clockTolerance: 30 }
    accepted(config)
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype)
  })
})

describe('preset claim rules with their options left out or set', () => {
  async function check(
    config: IssuerConfig,
    cases: readonly [claims: Record<string, unknown>, outcome: string][],
  ): Promise<void> {
    const key = await createKey('RS256')
    const { discovery: _d, jwksUri: _j, ...rest } = config
    const verifier = createVerifier({
      issuers: [{ ...rest, keys: jwks(key) }],
      logger: captureLogger().logger,
    })
    const iss = (Array.isArray(config.issuer) ? config.issuer[0] : config.issuer) as string
    for (const [claims, outcome] of cases) {
      const token = await sign(key, { iss, sub: 'u', ...claims })
      if (outcome === 'ok') await expect(verifier.verify(token)).resolves.toBeDefined()
      else await expectRejection(verifier.verify(token), invalidToken(outcome), token)
    }
  }

  it('firebase: tenant tokens only for the tenants named', async () => {
    const now = nowSeconds()
    const base = { aud: 'p1', auth_time: now - 5 }
    await check(firebase({ projectId: 'p1', tenant: ['t1'] }), [
      [{ ...base, firebase: { tenant: 't1' } }, 'ok'],
      [{ ...base, firebase: { tenant: 't2' } }, 'claim_mismatch'],
      [{ ...base, firebase: {} }, 'claim_mismatch'],
      [{ ...base, auth_time: 'yesterday', firebase: { tenant: 't1' } }, 'claim_mismatch'],
    ])
  })

  it('clerk: without authorizedParties any azp passes, a session id is still required', async () => {
    await check(clerk({ issuer: 'https://clerk.example.com' }), [
      [{ sid: 'sess_1', azp: 'https://anything.test' }, 'ok'],
      [{ sid: 'sess_1' }, 'ok'],
      [{ sid: '' }, 'claim_mismatch'],
    ])
  })

  it('entraId: without clientIds any client passes, an ID token (no azp, no appid) does not', async () => {
    const base = { aud: 'api', tid: TENANT }
    await check(entraId({ tenant: TENANT, audience: 'api' }), [
      [{ ...base, azp: 'any-client' }, 'ok'],
      [{ ...base, appid: 'any-client' }, 'ok'],
      [base, 'claim_mismatch'],
    ])
  })
})
