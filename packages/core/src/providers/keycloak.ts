/**
 * The Keycloak preset: a realm issuer, and the payload `typ` that tells its access tokens from its
 * ID tokens.
 */
import type { IssuerConfig } from '../issuer-config.js'
import { fail } from '../options.js'
import { isObject } from '../token.js'
import { issuerUrl, list, optionalList, text } from './validate.js'

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
