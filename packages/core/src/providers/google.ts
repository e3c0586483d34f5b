/**
 * The Google family: Google ID tokens (two spellings of one issuer) and Firebase Authentication ID
 * tokens (a per-project issuer on Google-published keys, with its `auth_time` and tenant rules).
 */
import type { IssuerConfig } from '../issuer-config.js'
import { CLOCK_TOLERANCE_S } from '../verifier-options.js'
import { fail } from '../options.js'
import { isObject } from '../token.js'
import { HOST, list, optionalList, text } from './validate.js'

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
