/**
 * The Okta preset: an authorization server issuer, scopes in `scp`, the client in `cid`.
 */
import type { IssuerConfig } from '../issuer-config.js'
import { fail } from '../options.js'
import { isObject } from '../token.js'
import { issuerUrl, list, optionalList } from './validate.js'

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
