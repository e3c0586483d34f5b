/**
 * The Clerk preset: session tokens of an instance, with no `aud`, a required `sid` and the
 * frontends allowed in `azp`.
 */
import type { IssuerConfig } from '../issuer-config.js'
import { fail } from '../options.js'
import { isObject } from '../token.js'
import { issuerUrl, optionalList } from './validate.js'

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
