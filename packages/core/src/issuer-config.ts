/**
 * One trusted issuer: its options (`IssuerConfig`), and their validation into the frozen
 * `IssuerPolicy` the verifier reads. The same rules hold for `issuers[i]` at start-up and for each
 * answer of `resolveIssuer`. Its key source and `alg` allowlist are issuer-keys.ts's.
 */
import type { Algorithm } from './algorithms.js'
import {
  compileClaimRules,
  normalizeTyp,
  type ClaimRule,
  type CompiledClaimRule,
} from './claims.js'
import type { Clock } from './clock.js'
import { allowedAlgorithms, resolveKeySource } from './issuer-keys.js'
import { issuerSpellings, scopeClaimList, stringSet, tenantRule } from './issuers.js'
import type { JwksTiming } from './jwks.js'
import type { KeySource } from './key-source.js'
import type { Logger } from './log.js'
import type { Observer } from './observe.js'
import { checkOptionNames, fail, optionNames, seconds } from './options.js'
import type { PublicKeyInput } from './public-key.js'
import { isObject } from './token.js'

/**
 * One trusted issuer. Exactly one of `jwksUri`, `discovery`, `keys`, `publicKey`, `secret` is set.
 * The provider presets (`auth0()`, `entraId()`, ...) return one of these.
 */
export interface IssuerConfig {
  /**
   * The exact `iss` value trusted, compared by case-sensitive string equality; or several exact
   * spellings of one issuer that share its key source (the first is canonical: `principal.issuer`
   * and `principal.key` use it). A spelling with `{tenantid}` is a template: see `tenants`.
   */
  issuer: string | readonly string[]
  /**
   * The token's `aud` must contain one of these. `null`: the issuer's tokens carry no `aud`
   * (Cognito access tokens, Clerk), so none is checked; `clientIds` or `claims` must then bind them.
   */
  audience: string | readonly string[] | null
  /** The token's `client_id` (RFC 9068), else its `azp`, must be one of these. */
  clientIds?: readonly string[]
  /** Rules over claims, checked for every token of this issuer (reason `claim_mismatch`). */
  claims?: Readonly<Record<string, ClaimRule>>
  /** The claims read into `principal.scopes`. Default `['scope', 'scp']`. */
  scopeClaims?: readonly string[]
  /**
   * With a `{tenantid}` issuer: the tenants trusted, as a list or a function asked for every
   * token. A tenant is `[A-Za-z0-9._-]{1,64}`, and the token's `tid` must equal it.
   */
  tenants?: readonly string[] | ((tenant: string) => boolean)
  /** The issuer's JWKS endpoint (https:, or http: on a loopback host). */
  jwksUri?: string | URL
  /** Find `jwks_uri` in the issuer's OpenID metadata; its `issuer` must equal ours exactly. */
  discovery?: boolean
  /** Where the metadata is, when not `<issuer>/.well-known/openid-configuration`. */
  discoveryUrl?: string | URL
  /** With a `{tenantid}` issuer and `discovery`: the tenant whose metadata names the template. */
  discoveryTenant?: string
  /** A static JWK Set: no network. */
  keys?: { keys: readonly object[] }
  /**
   * One static public key: a PEM (SPKI or X.509 certificate), a public `KeyObject`, or a public
   * JWK. Default `algorithms`: those that fit the key type.
   */
  publicKey?: PublicKeyInput
  /**
   * An HMAC secret, for HS256/384/512 only; at least 32 bytes. Public-key material (a PEM, a JWK,
   * anything Node imports as a key) is refused: it goes in `publicKey`.
   */
  secret?: string | Uint8Array
  /**
   * Allowed `alg` values. Default: RS256-512, PS256-512, ES256/384/512, EdDSA; with a `secret`,
   * HS256/384/512.
   */
  algorithms?: readonly Algorithm[]
  /** Require `exp`. Default `true`. */
  requireExp?: boolean
  /** Reject tokens whose `iat` is older than this many seconds (requires `iat`). */
  maxTokenAge?: number
  /** Required `typ` header, e.g. `at+jwt` (RFC 9068); compared as RFC 8725 s3.11 suggests. */
  typ?: string
  /** Seconds of leeway on `exp`, `nbf`, `iat` for this issuer. Default: the verifier's. */
  clockTolerance?: number
}

/** The names {@link IssuerConfig} accepts. */
export const ISSUER_OPTION_NAMES = optionNames<IssuerConfig>({
  issuer: true,
  audience: true,
  clientIds: true,
  claims: true,
  scopeClaims: true,
  tenants: true,
  jwksUri: true,
  discovery: true,
  discoveryUrl: true,
  discoveryTenant: true,
  keys: true,
  publicKey: true,
  secret: true,
  algorithms: true,
  requireExp: true,
  maxTokenAge: true,
  typ: true,
  clockTolerance: true,
})

/** One issuer's validated rules. */
export interface IssuerPolicy {
  /** The canonical spelling (a template for a `{tenantid}` issuer). */
  readonly issuer: string
  /** Every spelling, canonical first. */
  readonly spellings: readonly string[]
  /** True when the spellings hold `{tenantid}`. */
  readonly template: boolean
  readonly tenants: ((tenant: string) => boolean) | undefined
  readonly audiences: ReadonlySet<string> | null
  readonly clientIds: ReadonlySet<string> | undefined
  readonly claimRules: readonly CompiledClaimRule[]
  readonly scopeClaims: readonly string[]
  readonly algorithms: ReadonlySet<Algorithm>
  readonly keys: KeySource
  readonly requireExp: boolean
  readonly maxTokenAge: number | undefined
  readonly typ: string | undefined
  readonly clockTolerance: number
}

/** What every issuer of one verifier shares. */
export interface IssuerShared {
  readonly timing: JwksTiming
  readonly logger: Logger
  readonly clockTolerance: number
  /** The verifier's clocks (clock.ts): key sources measure their intervals with it. */
  readonly clock: Clock
  /** Where key sources report their fetches (observe.ts). */
  readonly observer: Observer
}

function audiences(value: unknown, field: string): Set<string> | null {
  if (value === null) return null
  const list: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : []
  if (list.length === 0) fail(field, 'is required: a string or a non-empty array of strings')
  for (const [i, aud] of list.entries()) {
    if (typeof aud !== 'string' || aud === '')
      fail(`${field}[${String(i)}]`, 'must be a non-empty string')
  }
  return new Set(list as string[])
}

/**
 * Validates one {@link IssuerConfig} into its policy: at start-up for `issuers[i]`, and for each
 * answer of `resolveIssuer`, so both are held to the same rules. Throws a TypeError naming the field.
 */
export function resolveIssuerPolicy(
  config: IssuerConfig,
  field: string,
  shared: IssuerShared,
): IssuerPolicy {
  if (!isObject(config)) fail(field, 'must be an object')
  checkOptionNames(config, ISSUER_OPTION_NAMES, field)
  const { spellings, template } = issuerSpellings(config.issuer, `${field}.issuer`)
  const issuer = spellings[0] as string
  const audience = audiences(config.audience, `${field}.audience`)
  const clientIds = stringSet(config.clientIds, `${field}.clientIds`)
  const claimRules = compileClaimRules(config.claims, `${field}.claims`)
  if (audience === null && clientIds === undefined && claimRules.length === 0) {
    // Without `aud`, nothing but the issuer would say the token is meant for this API: any token
    // of the issuer, for any app, would pass.
    fail(
      `${field}.audience`,
      'is null, so clientIds or claims must say which tokens are meant for this API',
    )
  }
  const tenants = tenantRule(config.tenants, `${field}.tenants`, template)
  const keys = resolveKeySource(config, field, issuer, template, shared)
  if (config.requireExp !== undefined && typeof config.requireExp !== 'boolean') {
    fail(`${field}.requireExp`, 'must be a boolean')
  }
  const maxTokenAge =
    config.maxTokenAge === undefined
      ? undefined
      : seconds(config.maxTokenAge, `${field}.maxTokenAge`, 0)
  if (config.typ !== undefined && (typeof config.typ !== 'string' || config.typ === '')) {
    fail(`${field}.typ`, 'must be a non-empty string')
  }
  return Object.freeze({
    issuer,
    spellings,
    template,
    tenants,
    audiences: audience,
    clientIds,
    claimRules,
    scopeClaims: scopeClaimList(config.scopeClaims, `${field}.scopeClaims`),
    algorithms: allowedAlgorithms(config.algorithms, `${field}.algorithms`, keys),
    keys: keys.source,
    requireExp: config.requireExp ?? true,
    maxTokenAge,
    typ: config.typ === undefined ? undefined : normalizeTyp(config.typ),
    clockTolerance: seconds(
      config.clockTolerance,
      `${field}.clockTolerance`,
      shared.clockTolerance,
    ),
  })
}
