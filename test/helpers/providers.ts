/**
 * Identity providers as they really serve and sign, played on 127.0.0.1: each provider's discovery
 * document and JWKS with its quirks (Entra ID's `{tenantid}` issuer in the `common` metadata, its
 * v1 metadata naming `sts.windows.net`, keys with `x5c` and `issuer` and no `alg`; Keycloak's
 * encryption key beside its signing key; Cognito's two keys, one for access and one for ID
 * tokens), and tokens minted with the header and claims that each provider's documentation shows.
 * The only change to each preset is where its keys are fetched from: `discoveryUrl` or `jwksUri`
 * points at this local server, while every issuer string stays the provider's own https: one.
 *
 * Sources of the token shapes (read with the search tool, not guessed):
 * - Auth0: auth0.com/docs/secure/tokens/access-tokens/access-token-profiles (both sample tokens)
 * - Okta: developer.okta.com/docs/reference/api/oidc (access token: ver, jti, cid, uid, scp array)
 * - Entra ID: MicrosoftDocs/entra-docs access-token-claims-reference.md and id-token-claims-reference.md
 * - Cognito: docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html
 * - Keycloak: a Keycloak access token (typ Bearer, azp, realm_access, resource_access, scope)
 * - Google: developers.google.com/identity/sign-in/web/backend-auth (iss spellings, aud, hd)
 * - Firebase: firebase.google.com/docs/auth/admin/verify-id-tokens (third-party JWT library checks)
 * - Clerk: clerk.com/docs/backend-requests/resources/session-tokens (azp, sid, no aud)
 */
import { execFileSync } from 'node:child_process'
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  auth0,
  clerk,
  cognito,
  entraId,
  firebase,
  google,
  keycloak,
  okta,
  type IssuerConfig,
} from '@trustgate/core'
import { createKey, nowSeconds, sign, type TestKey } from './keys.js'
import { startServer, type TestServer } from './server.js'

/** A token the provider's preset must accept, and what the principal must say. */
export interface HonestCase {
  readonly name: string
  readonly token: string
  readonly key: string
  readonly issuer: string
  readonly scopes: readonly string[]
}

/** A provider-typical wrong token, and the reason the preset alone refuses it with. */
export interface WrongCase {
  readonly name: string
  readonly token: string
  readonly reason: string
}

/** One provider block of the table. */
export interface ProviderFixture {
  readonly name: string
  /** The preset's config, with its key source pointed at the local server. */
  readonly issuer: IssuerConfig
  readonly honest: readonly HonestCase[]
  readonly wrong: readonly WrongCase[]
}

export interface Providers {
  readonly idp: TestServer
  readonly fixtures: readonly ProviderFixture[]
  /** The Entra ID tenants of the fixtures. */
  readonly entra: {
    readonly tenant: string
    readonly otherTenant: string
    readonly unlisted: string
  }
  close(): Promise<void>
}

/** `principal.key` as API.md defines it: `|` and `\` escaped, then joined by `|`. */
export function keyOf(issuer: string, subject: string): string {
  const escape = (part: string): string => part.replace(/[\\|]/g, '\\$&')
  return `${escape(issuer)}|${escape(subject)}`
}

function metadata(issuer: string, jwksUri: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: jwksUri,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  }
}

/**
 * An RSA key with a real self-signed certificate, published the way Entra ID publishes its keys:
 * `kty`, `use`, `kid`, `x5t`, `n`, `e`, `x5c` and `issuer`, and no `alg`.
 */
function entraKey(issuer: string): TestKey {
  const dir = mkdtempSync(join(tmpdir(), 'trustgate-entra-'))
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-subj',
        '/CN=accounts.accesscontrol.windows.net',
        '-days',
        '2',
      ],
      { stdio: 'ignore' },
    )
    const privateKey = createPrivateKey(readFileSync(join(dir, 'key.pem')))
    const certificate = new X509Certificate(readFileSync(join(dir, 'cert.pem')))
    const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' })
    const x5t = Buffer.from(certificate.fingerprint.replace(/:/g, ''), 'hex').toString('base64url')
    return {
      alg: 'RS256',
      kid: x5t,
      privateKey,
      publicKey: certificate.publicKey,
      jwk: {
        kty: 'RSA',
        use: 'sig',
        kid: x5t,
        x5t,
        n: publicJwk.n as string,
        e: publicJwk.e as string,
        x5c: [certificate.raw.toString('base64')],
        // Not a JWK member of RFC 7517: Entra ID's own addition, which must not get in the way.
        ...({ issuer } as object),
      },
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Starts the local IdP and builds every provider block. */
export async function startProviders(): Promise<Providers> {
  const idp = await startServer()
  const at = (path: string): string => `${idp.origin}${path}`
  const now = nowSeconds()
  const fixtures: ProviderFixture[] = []

  // --- Auth0 -------------------------------------------------------------------------------
  {
    const domain = 'my-tenant.us.auth0.com'
    const iss = `https://${domain}/`
    const api = 'https://api.example.com/health'
    const key = await createKey('RS256', { kid: 'auth0-signing-key' })
    idp.route('/auth0/.well-known/openid-configuration', {
      kind: 'json',
      body: metadata(iss, at('/auth0/.well-known/jwks.json')),
    })
    idp.route('/auth0/.well-known/jwks.json', { kind: 'json', body: { keys: [key.jwk] } })
    const base = { iss, sub: 'auth0|123456', iat: now, exp: now + 86400 }
    const aud = [api, `https://${domain}/userinfo`]
    fixtures.push({
      name: 'Auth0',
      issuer: {
        ...auth0({ domain, audience: api, clientIds: ['my_client_id'] }),
        discoveryUrl: at('/auth0/.well-known/openid-configuration'),
      },
      honest: [
        {
          name: 'Auth0 profile access token with RBAC permissions',
          token: await sign(
            key,
            {
              ...base,
              aud,
              azp: 'my_client_id',
              scope: 'openid profile read:patients',
              permissions: ['read:patients', 'read:admin'],
            },
            { header: { typ: 'JWT' } },
          ),
          issuer: iss,
          key: keyOf(iss, 'auth0|123456'),
          scopes: ['openid', 'profile', 'read:patients', 'read:admin'],
        },
        {
          name: 'RFC 9068 profile access token (typ at+jwt, client_id)',
          token: await sign(
            key,
            {
              ...base,
              aud,
              client_id: 'my_client_id',
              jti: '73WakrfVbNJBaAmhQtEeDv',
              scope: 'openid profile read:patients',
            },
            { header: { typ: 'at+jwt' } },
          ),
          issuer: iss,
          key: keyOf(iss, 'auth0|123456'),
          scopes: ['openid', 'profile', 'read:patients'],
        },
      ],
      wrong: [
        {
          name: 'ID token presented as an access token',
          token: await sign(key, { ...base, aud: 'my_client_id', nonce: 'n-0S6', name: 'A' }),
          reason: 'audience_mismatch',
        },
        {
          name: "another app's token (azp)",
          token: await sign(key, { ...base, aud, azp: 'other_client_id', scope: 'openid' }),
          reason: 'client_mismatch',
        },
        {
          name: "another tenant's token",
          token: await sign(key, {
            ...base,
            iss: 'https://other-tenant.us.auth0.com/',
            aud,
            azp: 'my_client_id',
          }),
          reason: 'untrusted_issuer',
        },
      ],
    })
  }

  // --- Okta --------------------------------------------------------------------------------
  {
    const iss = 'https://dev-123456.okta.com/oauth2/default'
    const key = await createKey('RS256', { kid: 'okta-key-1' })
    idp.route('/okta/oauth2/default/.well-known/openid-configuration', {
      kind: 'json',
      body: metadata(iss, at('/okta/oauth2/default/v1/keys')),
    })
    idp.route('/okta/oauth2/default/v1/keys', { kind: 'json', body: { keys: [key.jwk] } })
    const base = { ver: 1, iss, iat: now, exp: now + 3600, sub: 'alice@example.com' }
    const access = {
      ...base,
      jti: 'AT.8Wp5dSKbvm3g',
      aud: 'api://default',
      cid: '0oa1my2app3',
      uid: '00u1alice',
      scp: ['openid', 'orders:read'],
      auth_time: now - 60,
    }
    fixtures.push({
      name: 'Okta',
      issuer: {
        ...okta({ issuer: iss, audience: 'api://default', clientIds: ['0oa1my2app3'] }),
        discoveryUrl: at('/okta/oauth2/default/.well-known/openid-configuration'),
      },
      honest: [
        {
          name: 'access token of the default authorization server',
          token: await sign(key, access),
          issuer: iss,
          key: keyOf(iss, 'alice@example.com'),
          scopes: ['openid', 'orders:read'],
        },
      ],
      wrong: [
        {
          name: 'ID token presented as an access token',
          token: await sign(key, {
            ...base,
            aud: '0oa1my2app3',
            amr: ['pwd'],
            idp: '00o1idp',
            nonce: 'n',
            auth_time: now - 60,
          }),
          reason: 'audience_mismatch',
        },
        {
          name: "another app's token sharing api://default (cid)",
          token: await sign(key, { ...access, cid: '0oa9other8app' }),
          reason: 'claim_mismatch',
        },
        {
          name: "another org's token",
          token: await sign(key, { ...access, iss: 'https://other-org.okta.com/oauth2/default' }),
          reason: 'untrusted_issuer',
        },
      ],
    })
  }

  // --- Entra ID ----------------------------------------------------------------------------
  const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47'
  const otherTenant = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a'
  const unlisted = '9188040d-6c67-4c5b-b112-36a304b66dad'
  const v2 = (tid: string): string => `https://login.microsoftonline.com/${tid}/v2.0`
  const v1 = (tid: string): string => `https://sts.windows.net/${tid}/`
  {
    const apiClientId = '6e74172b-be56-4843-9ff4-e66a39bb12e3'
    const clientApp = '2fa8e5a4-0d4c-4b3a-9a7f-6f0b8f0c5a11'
    const key = entraKey('https://login.microsoftonline.com/{tenantid}/v2.0')
    const keys = { keys: [key.jwk] }
    idp.route('/entra/discovery/v2.0/keys', { kind: 'json', body: keys })
    // Tenant metadata (v2), the v1 metadata naming sts.windows.net, and `common` with the template.
    for (const tid of [tenant, otherTenant, unlisted]) {
      idp.route(`/entra/${tid}/v2.0/.well-known/openid-configuration`, {
        kind: 'json',
        body: metadata(v2(tid), at('/entra/discovery/v2.0/keys')),
      })
      idp.route(`/entra/${tid}/.well-known/openid-configuration`, {
        kind: 'json',
        body: metadata(v1(tid), at('/entra/discovery/v2.0/keys')),
      })
    }
    for (const name of ['common', 'organizations']) {
      idp.route(`/entra/${name}/v2.0/.well-known/openid-configuration`, {
        kind: 'json',
        body: metadata(v2('{tenantid}'), at('/entra/discovery/v2.0/keys')),
      })
    }
    const header = { typ: 'JWT', kid: key.kid }
    const headerV1 = { typ: 'JWT', kid: key.kid, x5t: key.kid }
    const user = {
      oid: '00000000-0000-0000-66f3-3332eca7ea81',
      sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
    }
    const delegatedV2 = (tid: string, extra: Record<string, unknown> = {}) => ({
      aud: apiClientId,
      iss: v2(tid),
      iat: now,
      nbf: now,
      exp: now + 3600,
      aio: 'AXQAi/8TAAAA',
      azp: clientApp,
      azpacr: '0',
      name: 'Abe Lincoln',
      oid: user.oid,
      preferred_username: 'abeli@microsoft.com',
      rh: 'I',
      scp: 'access_as_user Orders.Read',
      sub: user.sub,
      tid,
      uti: 'fqiBqXLPj0eQa82S-IYFAA',
      ver: '2.0',
      ...extra,
    })
    const delegatedV1 = (tid: string, extra: Record<string, unknown> = {}) => ({
      aud: 'api://orders',
      iss: v1(tid),
      iat: now,
      nbf: now,
      exp: now + 3600,
      acr: '1',
      aio: 'AXQAi/8TAAAA',
      amr: ['pwd'],
      appid: clientApp,
      appidacr: '0',
      oid: user.oid,
      scp: 'Orders.Read',
      sub: user.sub,
      tid,
      unique_name: 'abeli@microsoft.com',
      uti: 'fqiBqXLPj0eQa82S-IYFAA',
      ver: '1.0',
      ...extra,
    })
    const appOnly = (tid: string) => ({
      aud: apiClientId,
      iss: v2(tid),
      iat: now,
      nbf: now,
      exp: now + 3600,
      azp: clientApp,
      azpacr: '1',
      idtyp: 'app',
      oid: 'a1b2c3d4-0000-0000-0000-00000000a11c',
      roles: ['Orders.Read.All'],
      sub: 'a1b2c3d4-0000-0000-0000-00000000a11c',
      tid,
      ver: '2.0',
    })
    // An ID token of the API's own app registration: same `aud` as its access tokens, no client.
    const idToken = (tid: string) => ({
      aud: apiClientId,
      iss: v2(tid),
      iat: now,
      nbf: now,
      exp: now + 3600,
      name: 'Abe Lincoln',
      nonce: '12345',
      oid: user.oid,
      preferred_username: 'abeli@microsoft.com',
      rh: 'I',
      sub: user.sub,
      tid,
      uti: 'fqiBqXLPj0eQa82S-IYFAA',
      ver: '2.0',
    })
    const audience = [apiClientId, 'api://orders']
    const entraWrong = async (multi: boolean): Promise<WrongCase[]> => [
      {
        name: 'ID token presented as an access token (same aud)',
        token: await sign(key, idToken(tenant), { header }),
        reason: 'claim_mismatch',
      },
      {
        name: "another app's token (azp)",
        token: await sign(
          key,
          delegatedV2(tenant, { azp: 'bad0bad0-0000-0000-0000-000000000bad' }),
          {
            header,
          },
        ),
        reason: 'claim_mismatch',
      },
      {
        name: "another app's v1 token (appid)",
        token: await sign(
          key,
          delegatedV1(tenant, { appid: 'bad0bad0-0000-0000-0000-000000000bad' }),
          {
            header: headerV1,
          },
        ),
        reason: 'claim_mismatch',
      },
      {
        name: "another tenant's token",
        token: await sign(key, delegatedV2(unlisted), { header }),
        reason: 'untrusted_issuer',
      },
      {
        name: 'tid differs from the tenant in iss',
        token: await sign(key, delegatedV2(tenant, { tid: unlisted }), { header }),
        reason: multi ? 'tenant_mismatch' : 'claim_mismatch',
      },
    ]
    const v2Key = keyOf(v2(tenant), user.sub)
    fixtures.push({
      name: 'Entra ID (single tenant)',
      issuer: {
        ...entraId({ tenant, audience, clientIds: [clientApp] }),
        discoveryUrl: at(`/entra/${tenant}/v2.0/.well-known/openid-configuration`),
      },
      honest: [
        {
          name: 'v2 delegated token (scp string)',
          token: await sign(key, delegatedV2(tenant), { header }),
          issuer: v2(tenant),
          key: v2Key,
          scopes: ['access_as_user', 'Orders.Read'],
        },
        {
          name: 'v1 token of the same user: same principal.key',
          token: await sign(key, delegatedV1(tenant), { header: headerV1 }),
          issuer: v2(tenant),
          key: v2Key,
          scopes: ['Orders.Read'],
        },
        {
          name: 'v2 app-only token (roles)',
          token: await sign(key, appOnly(tenant), { header }),
          issuer: v2(tenant),
          key: keyOf(v2(tenant), 'a1b2c3d4-0000-0000-0000-00000000a11c'),
          scopes: ['Orders.Read.All'],
        },
      ],
      wrong: await entraWrong(false),
    })
    fixtures.push({
      name: 'Entra ID (multi-tenant, common)',
      issuer: {
        ...entraId({
          tenant: 'common',
          audience,
          tenants: [tenant, otherTenant],
          clientIds: [clientApp],
        }),
        discoveryUrl: at('/entra/common/v2.0/.well-known/openid-configuration'),
      },
      honest: [
        {
          name: 'v2 token of a listed tenant',
          token: await sign(key, delegatedV2(tenant), { header }),
          issuer: v2(tenant),
          key: v2Key,
          scopes: ['access_as_user', 'Orders.Read'],
        },
        {
          name: 'v1 token of another listed tenant',
          token: await sign(key, delegatedV1(otherTenant), { header: headerV1 }),
          issuer: v2(otherTenant),
          key: keyOf(v2(otherTenant), user.sub),
          scopes: ['Orders.Read'],
        },
      ],
      wrong: await entraWrong(true),
    })
    // A v1-first configuration: the v1 metadata names sts.windows.net, which is then canonical.
    fixtures.push({
      name: 'Entra ID (v1 metadata)',
      issuer: {
        ...entraId({ tenant, audience, clientIds: [clientApp] }),
        issuer: [v1(tenant), v2(tenant)],
        discoveryUrl: at(`/entra/${tenant}/.well-known/openid-configuration`),
      },
      honest: [
        {
          name: 'v1 token, v1 spelling canonical',
          token: await sign(key, delegatedV1(tenant), { header: headerV1 }),
          issuer: v1(tenant),
          key: keyOf(v1(tenant), user.sub),
          scopes: ['Orders.Read'],
        },
        {
          name: 'v2 token of the same user: same principal.key',
          token: await sign(key, delegatedV2(tenant), { header }),
          issuer: v1(tenant),
          key: keyOf(v1(tenant), user.sub),
          scopes: ['access_as_user', 'Orders.Read'],
        },
      ],
      wrong: [
        {
          name: 'ID token presented as an access token (same aud)',
          token: await sign(key, idToken(tenant), { header }),
          reason: 'claim_mismatch',
        },
      ],
    })
  }

  // --- Cognito -----------------------------------------------------------------------------
  {
    const region = 'eu-west-1'
    const userPoolId = 'eu-west-1_AbCdEf123'
    const iss = `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`
    const clientId = '1example23456789'
    // Cognito signs access and ID tokens with different keys of the same JWKS.
    const accessKey = await createKey('RS256', { kid: 'abcdefghijklmnopqrsexample=' })
    const idKey = await createKey('RS256', { kid: 'zyxwvutsrqponmlkjihexample=' })
    idp.route('/cognito/.well-known/jwks.json', {
      kind: 'json',
      body: { keys: [accessKey.jwk, idKey.jwk] },
    })
    const sub = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'
    const accessClaims = {
      sub,
      device_key: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      'cognito:groups': ['admin'],
      iss,
      version: 2,
      client_id: clientId,
      origin_jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      event_id: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      token_use: 'access',
      scope: 'aws.cognito.signin.user.admin phone openid profile email',
      auth_time: now - 60,
      exp: now + 3600,
      iat: now,
      jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      username: 'my-test-user',
    }
    const idClaims = {
      sub,
      'cognito:groups': ['admin'],
      email_verified: true,
      iss,
      'cognito:username': 'my-test-user',
      origin_jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      aud: clientId,
      event_id: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      token_use: 'id',
      auth_time: now - 60,
      exp: now + 3600,
      iat: now,
      jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      email: 'my-test-user@example.com',
    }
    const header = (key: TestKey) => ({ header: { kid: key.kid } })
    const jwksUri = at('/cognito/.well-known/jwks.json')
    const otherPool = `https://cognito-idp.${region}.amazonaws.com/${region}_ZzOther99`
    fixtures.push({
      name: 'Cognito (access tokens)',
      issuer: {
        ...cognito({ region, userPoolId, clientIds: [clientId], tokenUse: 'access' }),
        jwksUri,
      },
      honest: [
        {
          name: 'access token (client_id, token_use access, no aud)',
          token: await sign(accessKey, accessClaims, header(accessKey)),
          issuer: iss,
          key: keyOf(iss, sub),
          scopes: ['aws.cognito.signin.user.admin', 'phone', 'openid', 'profile', 'email'],
        },
      ],
      wrong: [
        {
          name: 'ID token presented as an access token',
          token: await sign(idKey, idClaims, header(idKey)),
          reason: 'client_mismatch',
        },
        {
          name: 'token with the wrong token_use',
          token: await sign(accessKey, { ...accessClaims, token_use: 'id' }, header(accessKey)),
          reason: 'claim_mismatch',
        },
        {
          name: "another app client's token (client_id)",
          token: await sign(
            accessKey,
            { ...accessClaims, client_id: '9other87654321' },
            header(accessKey),
          ),
          reason: 'client_mismatch',
        },
        {
          name: "another user pool's token",
          token: await sign(accessKey, { ...accessClaims, iss: otherPool }, header(accessKey)),
          reason: 'untrusted_issuer',
        },
      ],
    })
    fixtures.push({
      name: 'Cognito (ID tokens)',
      issuer: {
        ...cognito({ region, userPoolId, clientIds: [clientId], tokenUse: 'id' }),
        jwksUri,
      },
      honest: [
        {
          name: 'ID token (aud = client id, token_use id)',
          token: await sign(idKey, idClaims, header(idKey)),
          issuer: iss,
          key: keyOf(iss, sub),
          scopes: [],
        },
      ],
      wrong: [
        {
          name: 'access token presented as an ID token',
          token: await sign(accessKey, accessClaims, header(accessKey)),
          reason: 'audience_mismatch',
        },
        {
          name: 'token with the wrong token_use',
          token: await sign(idKey, { ...idClaims, token_use: 'access' }, header(idKey)),
          reason: 'claim_mismatch',
        },
        {
          name: "another app client's ID token (aud)",
          token: await sign(idKey, { ...idClaims, aud: '9other87654321' }, header(idKey)),
          reason: 'audience_mismatch',
        },
      ],
    })
  }

  // --- Keycloak ----------------------------------------------------------------------------
  {
    const iss = 'https://sso.example.test/realms/acme'
    const key = await createKey('RS256', { kid: 'FJ86GcF3jTbNLOco4NvZkUCIUmfYCqoqtOQeMfbhNlE' })
    // Keycloak also publishes its realm's encryption key (RSA-OAEP, use enc) in the same set.
    const enc = await createKey('RS256', { kid: 'enc-Xq1lOcRzXcbLj8ma-WkF', jwkAlg: false })
    const encJwk = { ...enc.jwk, use: 'enc', alg: 'RSA-OAEP' }
    idp.route('/keycloak/realms/acme/.well-known/openid-configuration', {
      kind: 'json',
      body: metadata(iss, at('/keycloak/realms/acme/protocol/openid-connect/certs')),
    })
    idp.route('/keycloak/realms/acme/protocol/openid-connect/certs', {
      kind: 'json',
      body: { keys: [encJwk, key.jwk] },
    })
    const sub = 'f1e2d3c4-b5a6-4789-8abc-def012345678'
    const access = {
      exp: now + 300,
      iat: now,
      auth_time: now - 10,
      jti: 'onrtac:5c8b2a4e-1f0d-4c55-9a77-2b2f7d9e1c3a',
      iss,
      aud: ['orders-api', 'account'],
      sub,
      typ: 'Bearer',
      azp: 'web-app',
      sid: '8d7e6f5a-4b3c-2d1e-0f9a-8b7c6d5e4f3a',
      acr: '1',
      'allowed-origins': ['https://app.example.test'],
      realm_access: { roles: ['offline_access', 'default-roles-acme', 'uma_authorization'] },
      resource_access: { account: { roles: ['manage-account', 'view-profile'] } },
      scope: 'openid profile email orders:read',
      email_verified: true,
      preferred_username: 'alice',
    }
    const header = { header: { typ: 'JWT' } }
    fixtures.push({
      name: 'Keycloak',
      issuer: {
        ...keycloak({
          url: 'https://sso.example.test',
          realm: 'acme',
          audience: 'orders-api',
          clientIds: ['web-app'],
        }),
        discoveryUrl: at('/keycloak/realms/acme/.well-known/openid-configuration'),
      },
      honest: [
        {
          name: 'access token (typ Bearer, azp, audience mapper)',
          token: await sign(key, access, header),
          issuer: iss,
          key: keyOf(iss, sub),
          scopes: ['openid', 'profile', 'email', 'orders:read'],
        },
      ],
      wrong: [
        {
          name: 'ID token presented as an access token (typ ID, mapper on the ID token too)',
          token: await sign(key, { ...access, typ: 'ID', nonce: 'n', at_hash: 'x' }, header),
          reason: 'claim_mismatch',
        },
        {
          name: 'ID token without the audience mapper (aud = client)',
          token: await sign(key, { ...access, typ: 'ID', aud: 'web-app' }, header),
          reason: 'audience_mismatch',
        },
        {
          name: "another client's token (azp)",
          token: await sign(key, { ...access, azp: 'other-client' }, header),
          reason: 'client_mismatch',
        },
        {
          name: "another realm's token",
          token: await sign(
            key,
            { ...access, iss: 'https://sso.example.test/realms/other' },
            header,
          ),
          reason: 'untrusted_issuer',
        },
      ],
    })
  }

  // --- Google ------------------------------------------------------------------------------
  {
    const clientId = '1234987819200-okv1example.apps.googleusercontent.com'
    const key = await createKey('RS256', { kid: 'google-2026-12' })
    idp.route('/google/oauth2/v3/certs', { kind: 'json', body: { keys: [key.jwk] } })
    const sub = '110169484474386276334'
    const claims = {
      iss: 'https://accounts.google.com',
      azp: clientId,
      aud: clientId,
      sub,
      hd: 'example.com',
      email: 'alice@example.com',
      email_verified: true,
      at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q',
      iat: now,
      exp: now + 3600,
    }
    const header = { header: { typ: 'JWT' } }
    const canonical = 'https://accounts.google.com'
    fixtures.push({
      name: 'Google',
      issuer: {
        ...google({ audience: clientId, hostedDomain: 'example.com' }),
        jwksUri: at('/google/oauth2/v3/certs'),
      },
      honest: [
        {
          name: 'ID token, https://accounts.google.com',
          token: await sign(key, claims, header),
          issuer: canonical,
          key: keyOf(canonical, sub),
          scopes: [],
        },
        {
          name: 'ID token, accounts.google.com: same principal.key',
          token: await sign(key, { ...claims, iss: 'accounts.google.com' }, header),
          issuer: canonical,
          key: keyOf(canonical, sub),
          scopes: [],
        },
      ],
      wrong: [
        {
          name: "another app's ID token (aud)",
          token: await sign(key, { ...claims, aud: 'other.apps.googleusercontent.com' }, header),
          reason: 'audience_mismatch',
        },
        {
          name: "another Workspace domain's user (hd)",
          token: await sign(key, { ...claims, hd: 'other.example' }, header),
          reason: 'claim_mismatch',
        },
        {
          name: 'a consumer account (no hd)',
          token: await sign(key, { ...claims, hd: undefined }, header),
          reason: 'claim_mismatch',
        },
      ],
    })
  }

  // --- Firebase ----------------------------------------------------------------------------
  {
    const projectId = 'my-project'
    const iss = `https://securetoken.google.com/${projectId}`
    const key = await createKey('RS256', { kid: 'firebase-securetoken-1' })
    idp.route('/firebase/jwk', { kind: 'json', body: { keys: [key.jwk] } })
    const uid = 'Xk893u23H9SI893'
    const claims = {
      iss,
      aud: projectId,
      auth_time: now - 30,
      user_id: uid,
      sub: uid,
      iat: now,
      exp: now + 3600,
      email: 'user@example.com',
      email_verified: true,
      firebase: { identities: { email: ['user@example.com'] }, sign_in_provider: 'password' },
    }
    const header = { header: { typ: 'JWT' } }
    fixtures.push({
      name: 'Firebase',
      issuer: { ...firebase({ projectId }), jwksUri: at('/firebase/jwk') },
      honest: [
        {
          name: 'ID token of a project user',
          token: await sign(key, claims, header),
          issuer: iss,
          key: keyOf(iss, uid),
          scopes: [],
        },
      ],
      wrong: [
        {
          name: "another project's token",
          token: await sign(
            key,
            {
              ...claims,
              iss: 'https://securetoken.google.com/other-project',
              aud: 'other-project',
            },
            header,
          ),
          reason: 'untrusted_issuer',
        },
        {
          name: "a tenant's token (firebase.tenant)",
          token: await sign(
            key,
            { ...claims, firebase: { ...claims.firebase, tenant: 'tenant-2-abcde' } },
            header,
          ),
          reason: 'claim_mismatch',
        },
        {
          name: 'auth_time in the future',
          token: await sign(key, { ...claims, auth_time: now + 3600 }, header),
          reason: 'claim_mismatch',
        },
      ],
    })
  }

  // --- Clerk -------------------------------------------------------------------------------
  {
    const iss = 'https://clerk.example.com'
    const key = await createKey('RS256', { kid: 'ins_2abcDEFghiJKL' })
    idp.route('/clerk/.well-known/jwks.json', { kind: 'json', body: { keys: [key.jwk] } })
    const sub = 'user_2NNEqL2nrIRdJ194ndJqAHwEfxC'
    const claims = {
      azp: 'https://app.example.com',
      exp: now + 60,
      iat: now,
      iss,
      nbf: now - 5,
      sid: 'sess_2NNEqP3yHXp1VGGSlT2hWz5aRmD',
      sub,
    }
    const header = { header: { typ: 'JWT' } }
    fixtures.push({
      name: 'Clerk',
      issuer: {
        ...clerk({ issuer: iss, authorizedParties: ['https://app.example.com'] }),
        jwksUri: at('/clerk/.well-known/jwks.json'),
      },
      honest: [
        {
          name: 'session token (no aud, azp, sid)',
          token: await sign(key, claims, header),
          issuer: iss,
          key: keyOf(iss, sub),
          scopes: [],
        },
      ],
      wrong: [
        {
          name: "another frontend's token (azp)",
          token: await sign(key, { ...claims, azp: 'https://evil.example' }, header),
          reason: 'claim_mismatch',
        },
        {
          name: 'a token without sid (not a session token)',
          token: await sign(key, { ...claims, sid: undefined }, header),
          reason: 'claim_mismatch',
        },
        {
          name: "another instance's token",
          token: await sign(key, { ...claims, iss: 'https://clerk.other.example' }, header),
          reason: 'untrusted_issuer',
        },
      ],
    })
  }

  return {
    idp,
    fixtures,
    entra: { tenant, otherTenant, unlisted },
    close: () => idp.close(),
  }
}
