/**
 * Provider presets: each returns a plain {@link IssuerConfig} that encodes one identity provider's
 * documented token shape (issuer spelling(s), key source, where its audience, client and scopes
 * live, and the claims that tell its access tokens from its ID tokens), so that its typical wrong
 * tokens are refused by the issuer entry alone, with no per-route rule. Spread and override any
 * field: `{ ...auth0({ domain, audience }), clockTolerance: 30 }`.
 */
import { CLOCK_TOLERANCE_S, type IssuerConfig } from './config.js'
import type { ClaimRule } from './claims.js'
import { checkUrl } from './fetch.js'
import { fail } from './options.js'
import { isObject } from './token.js'

function text(value: unknown, field: string, pattern?: RegExp, hint = ''): string {
  if (typeof value !== 'string' || value === '') fail(field, 'is required: a non-empty string')
  if (pattern !== undefined && !pattern.test(value)) fail(field, `must be ${hint}`)
  return value
}

function list(value: unknown, field: string): readonly string[] {
  const items = typeof value === 'string' ? [value] : value
  if (!Array.isArray(items) || items.length === 0) {
    fail(field, 'is required: a string or a non-empty array of strings')
  }
  for (const [i, item] of (items as unknown[]).entries()) {
    if (typeof item !== 'string' || item === '') {
      fail(`${field}[${String(i)}]`, 'must be a non-empty string')
    }
  }
  return Object.freeze([...(items as string[])])
}

function optionalList(value: unknown, field: string): readonly string[] | undefined {
  return value === undefined ? undefined : list(value, field)
}

// https:, or http: on a loopback host (a Keycloak on localhost in development), as key sources.
function issuerUrl(value: unknown, field: string): string {
  const url = checkUrl(text(value, field))
  if (typeof url === 'string') fail(field, url)
  // The string as given: `iss` is compared exactly, and URL parsing would normalise it.
  return value as string
}

// A DNS name, without scheme, path or port: what the provider's dashboard shows as the domain.
const HOST =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/

/** Options of {@link auth0}. */
export interface Auth0Options {
  /** The tenant's domain or custom domain, e.g. `my-tenant.us.auth0.com` (no scheme). */
  domain: string
  /** The API Identifier (the `audience` clients ask tokens for). */
  audience: string | readonly string[]
  /** The applications allowed to call: `client_id` (RFC 9068 profile) or `azp` (Auth0 profile). */
  clientIds?: readonly string[]
}

/**
 * Auth0 (https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles): issuer
 * `https://<domain>/` with its trailing slash, keys by discovery; `aud` may be an array that also
 * names `/userinfo`, which is fine as long as it holds the API's identifier; scopes from `scope`
 * and the RBAC `permissions` claim. An ID token carries the application's client id as `aud`, so
 * the audience refuses it. Both token profiles (Auth0 `typ: JWT`, RFC 9068 `typ: at+jwt`) pass.
 */
export function auth0(options: Auth0Options): IssuerConfig {
  if (!isObject(options)) fail('auth0()', 'needs { domain, audience }')
  const domain = text(
    options.domain,
    'auth0().domain',
    HOST,
    'a host name such as my-tenant.us.auth0.com',
  )
  const clientIds = optionalList(options.clientIds, 'auth0().clientIds')
  return {
    issuer: `https://${domain}/`,
    audience: list(options.audience, 'auth0().audience'),
    discovery: true,
    scopeClaims: ['scope', 'permissions'],
    ...(clientIds === undefined ? {} : { clientIds }),
  }
}

/** Options of {@link okta}. */
export interface OktaOptions {
  /** The authorization server's issuer, e.g. `https://my-org.okta.com/oauth2/default`. */
  issuer: string
  /** Its audience, e.g. `api://default`. */
  audience: string | readonly string[]
  /**
   * The applications allowed to call, matched against `cid`. The default authorization server's
   * audience `api://default` is shared by every app of the org: set this there.
   */
  clientIds?: readonly string[]
}

/**
 * Okta (https://developer.okta.com/docs/reference/api/oidc/): keys by discovery; `scp` is an array
 * of scopes; `cid` names the client. An ID token carries the client id as `aud`, so the audience
 * refuses it.
 */
export function okta(options: OktaOptions): IssuerConfig {
  if (!isObject(options)) fail('okta()', 'needs { issuer, audience }')
  const clientIds = optionalList(options.clientIds, 'okta().clientIds')
  return {
    issuer: issuerUrl(options.issuer, 'okta().issuer'),
    audience: list(options.audience, 'okta().audience'),
    discovery: true,
    scopeClaims: ['scp'],
    ...(clientIds === undefined ? {} : { claims: { cid: clientIds } }),
  }
}

/** Options of {@link entraId}. */
export interface EntraIdOptions {
  /**
   * The directory (tenant) id, a GUID, for a single-tenant API; or `'common'` /
   * `'organizations'` for a multi-tenant one, which then needs `tenants`.
   */
  tenant: string
  /** The API's application (client) id, and/or its Application ID URI (v1 tokens use either). */
  audience: string | readonly string[]
  /** Multi-tenant: the tenant ids trusted, or a function asked for each token's tenant. */
  tenants?: readonly string[] | ((tenant: string) => boolean)
  /** The client applications allowed to call: `azp` (v2 tokens) or `appid` (v1 tokens). */
  clientIds?: readonly string[]
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/
const ENTRA_V2 = (tenant: string): string => `https://login.microsoftonline.com/${tenant}/v2.0`
const ENTRA_V1 = (tenant: string): string => `https://sts.windows.net/${tenant}/`

/**
 * Microsoft Entra ID (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference):
 * the v2 issuer `https://login.microsoftonline.com/<tid>/v2.0` and the v1 issuer
 * `https://sts.windows.net/<tid>/` are one issuer with one key set (v2 is canonical, so a user has
 * one `principal.key` whatever the token version); `tid` must be the tenant of `iss`; scopes from
 * `scp` (delegated) and `roles` (app-only); the client is `azp` (v2) or `appid` (v1). An ID token
 * names no client (neither `azp` nor `appid`), so it is refused even where it shares the API's
 * audience. The keys carry `x5c` and `issuer` and often no `alg`: only their `n`/`e` are used.
 */
export function entraId(options: EntraIdOptions): IssuerConfig {
  if (!isObject(options)) fail('entraId()', 'needs { tenant, audience }')
  const tenant = text(options.tenant, 'entraId().tenant')
  const multi = tenant === 'common' || tenant === 'organizations'
  if (!multi && !GUID.test(tenant)) {
    fail('entraId().tenant', "must be a tenant id (a GUID), 'common' or 'organizations'")
  }
  const clientIds = optionalList(options.clientIds, 'entraId().clientIds')
  // v2 tokens name their client in `azp`, v1 tokens in `appid`; an ID token in neither.
  const client: ClaimRule = (azp, payload) => {
    const id = azp ?? payload.appid
    return typeof id === 'string' && (clientIds === undefined || clientIds.includes(id))
  }
  const common = {
    audience: list(options.audience, 'entraId().audience'),
    scopeClaims: ['scp', 'roles'],
    discovery: true,
  } as const
  if (!multi) {
    if (options.tenants !== undefined) {
      fail('entraId().tenants', "needs tenant 'common' or 'organizations'")
    }
    return {
      ...common,
      issuer: [ENTRA_V2(tenant), ENTRA_V1(tenant)],
      claims: { tid: tenant, azp: client },
    }
  }
  if (options.tenants === undefined) {
    fail('entraId().tenants', `is required with tenant '${tenant}': the tenant ids trusted`)
  }
  return {
    ...common,
    // The `common` metadata names exactly this template as its issuer.
    issuer: [ENTRA_V2('{tenantid}'), ENTRA_V1('{tenantid}')],
    tenants: options.tenants,
    discoveryTenant: tenant,
    claims: { azp: client },
  }
}

/** Options of {@link cognito}. */
export interface CognitoOptions {
  /** The AWS region, e.g. `eu-west-1`. */
  region: string
  /** The user pool id, e.g. `eu-west-1_AbCdEf123`. */
  userPoolId: string
  /** The app clients allowed: `client_id` of access tokens, `aud` of ID tokens. */
  clientIds: readonly string[]
  /** Which tokens the API takes: `'access'` (the usual) or `'id'`. */
  tokenUse: 'access' | 'id'
}

/**
 * Amazon Cognito user pools
 * (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html):
 * issuer `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`, keys at its
 * `/.well-known/jwks.json`, RS256. Access tokens carry no `aud`, but `client_id` and
 * `token_use: "access"`; ID tokens carry `aud` = client id and `token_use: "id"`. `token_use` is
 * checked either way, so the other kind is refused. Groups are in `claims['cognito:groups']`.
 */
export function cognito(options: CognitoOptions): IssuerConfig {
  if (!isObject(options)) fail('cognito()', 'needs { region, userPoolId, clientIds, tokenUse }')
  const region = text(
    options.region,
    'cognito().region',
    /^[a-z]{2}(-[a-z]+)+-\d+$/,
    'an AWS region such as eu-west-1',
  )
  const userPoolId = text(
    options.userPoolId,
    'cognito().userPoolId',
    /^[a-z]{2}(-[a-z]+)+-\d+_[A-Za-z0-9]+$/,
    'a user pool id such as eu-west-1_AbCdEf123',
  )
  if (!userPoolId.startsWith(`${region}_`)) {
    fail('cognito().userPoolId', `must be a pool of region ${region}`)
  }
  const clientIds = list(options.clientIds, 'cognito().clientIds')
  const tokenUse: unknown = options.tokenUse
  if (tokenUse !== 'access' && tokenUse !== 'id') {
    fail('cognito().tokenUse', "must be 'access' or 'id'")
  }
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`
  const common = {
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    algorithms: ['RS256'] as const,
  }
  return tokenUse === 'access'
    ? { ...common, audience: null, clientIds, claims: { token_use: 'access' } }
    : { ...common, audience: clientIds, claims: { token_use: 'id' } }
}

/** Options of {@link keycloak}. */
export interface KeycloakOptions {
  /** The server's base URL, e.g. `https://sso.example.com` (or `.../auth` before Keycloak 17). */
  url: string
  /** The realm's name. */
  realm: string
  /** The audience an audience mapper puts in the API's tokens (Keycloak's default is `account`). */
  audience: string | readonly string[]
  /** The clients allowed to call: `azp`. */
  clientIds?: readonly string[]
}

/**
 * Keycloak (https://www.keycloak.org/docs/latest/server_admin/#_oidc_token_role_mappings):
 * issuer `<url>/realms/<realm>`, keys by discovery (its JWKS also lists an encryption key, which
 * is skipped); the payload claim `typ` is `Bearer` in access tokens and `ID` in ID tokens, so an
 * ID token is refused; `azp` names the client. Roles are in `claims.realm_access.roles` and
 * `claims.resource_access[client].roles`.
 */
export function keycloak(options: KeycloakOptions): IssuerConfig {
  if (!isObject(options)) fail('keycloak()', 'needs { url, realm, audience }')
  const url = issuerUrl(options.url, 'keycloak().url').replace(/\/+$/, '')
  const realm = text(options.realm, 'keycloak().realm')
  const clientIds = optionalList(options.clientIds, 'keycloak().clientIds')
  return {
    issuer: `${url}/realms/${encodeURIComponent(realm)}`,
    audience: list(options.audience, 'keycloak().audience'),
    discovery: true,
    claims: { typ: 'Bearer' },
    ...(clientIds === undefined ? {} : { clientIds }),
  }
}

/** Options of {@link google}. */
export interface GoogleOptions {
  /** Your OAuth client id(s): Google's ID tokens carry it as `aud`. */
  audience: string | readonly string[]
  /** A Google Workspace domain: the token's `hd` must equal it. */
  hostedDomain?: string
}

/**
 * Google ID tokens (https://developers.google.com/identity/sign-in/web/backend-auth): `iss` is
 * `https://accounts.google.com` or `accounts.google.com` (one issuer, the first canonical), keys at
 * `https://www.googleapis.com/oauth2/v3/certs`, `aud` is your client id, `hd` the Workspace domain.
 */
export function google(options: GoogleOptions): IssuerConfig {
  if (!isObject(options)) fail('google()', 'needs { audience }')
  const hostedDomain =
    options.hostedDomain === undefined
      ? undefined
      : text(options.hostedDomain, 'google().hostedDomain', HOST, 'a domain such as example.com')
  return {
    issuer: ['https://accounts.google.com', 'accounts.google.com'],
    audience: list(options.audience, 'google().audience'),
    jwksUri: 'https://www.googleapis.com/oauth2/v3/certs',
    algorithms: ['RS256'],
    ...(hostedDomain === undefined ? {} : { claims: { hd: hostedDomain } }),
  }
}

/** Options of {@link firebase}. */
export interface FirebaseOptions {
  /** The Firebase project id. */
  projectId: string
  /**
   * Identity Platform tenant id(s) accepted in `firebase.tenant`. Without it, only tokens of the
   * project's own users (no tenant) pass.
   */
  tenant?: string | readonly string[]
}

/**
 * Firebase Authentication ID tokens
 * (https://firebase.google.com/docs/auth/admin/verify-id-tokens#verify_id_tokens_using_a_third-party_jwt_library):
 * issuer `https://securetoken.google.com/<projectId>`, `aud` = projectId, RS256 with the keys
 * Google publishes for securetoken@system.gserviceaccount.com; `auth_time` must be in the past;
 * `firebase.tenant` must be one of `tenant` (or absent without it).
 */
export function firebase(options: FirebaseOptions): IssuerConfig {
  if (!isObject(options)) fail('firebase()', 'needs { projectId }')
  const projectId = text(
    options.projectId,
    'firebase().projectId',
    /^[a-z0-9-]{1,64}$/,
    'a project id such as my-project-1',
  )
  const tenants = optionalList(options.tenant, 'firebase().tenant')
  return {
    issuer: `https://securetoken.google.com/${projectId}`,
    audience: projectId,
    jwksUri:
      'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com',
    algorithms: ['RS256'],
    claims: {
      auth_time: (value) =>
        typeof value === 'number' && value <= Date.now() / 1000 + CLOCK_TOLERANCE_S,
      firebase: (value) => {
        const tenant = isObject(value) ? value.tenant : undefined
        return tenants === undefined
          ? tenant === undefined
          : typeof tenant === 'string' && tenants.includes(tenant)
      },
    },
  }
}

/** Options of {@link clerk}. */
export interface ClerkOptions {
  /** The instance's Frontend API URL, e.g. `https://clerk.example.com`. */
  issuer: string
  /** The origins of your frontends: the session token's `azp` must be one of them. */
  authorizedParties?: readonly string[]
}

/**
 * Clerk session tokens (https://clerk.com/docs/backend-requests/resources/session-tokens): the
 * issuer is the instance's Frontend API URL, keys at its `/.well-known/jwks.json`; there is no
 * `aud`; a session token has a `sid`; `azp` is the origin of the frontend that asked for it.
 */
export function clerk(options: ClerkOptions): IssuerConfig {
  if (!isObject(options)) fail('clerk()', 'needs { issuer }')
  const issuer = issuerUrl(options.issuer, 'clerk().issuer').replace(/\/+$/, '')
  const parties = optionalList(options.authorizedParties, 'clerk().authorizedParties')
  return {
    issuer,
    audience: null,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    algorithms: ['RS256'],
    claims: {
      sid: (value) => typeof value === 'string' && value !== '',
      ...(parties === undefined ? {} : { azp: parties }),
    },
  }
}
