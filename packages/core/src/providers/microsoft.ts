/**
 * The Microsoft Entra ID preset: its v1 and v2 issuer spellings as one issuer, single-tenant or
 * multi-tenant (a tenant template), and the client claim that tells access tokens from ID tokens.
 */
import type { ClaimRule } from '../claims.js'
import type { IssuerConfig } from '../issuer-config.js'
import { fail } from '../options.js'
import { isObject } from '../token.js'
import { list, optionalList, text } from './validate.js'

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
