/**
 * The Auth0 preset: its issuer spelling (with the trailing slash), its two access-token profiles,
 * and its scopes in `scope` and the RBAC `permissions` claim.
 */
import type { IssuerConfig } from '../issuer-config.js'
import { fail } from '../options.js'
import { isObject } from '../token.js'
import { HOST, list, optionalList, text } from './validate.js'

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
