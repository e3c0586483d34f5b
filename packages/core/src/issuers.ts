/**
 * STEP 3 of API.md: which configured issuer, if any, a token's `iss` names. An exact spelling
 * first (one issuer may have several, as Google and Entra ID v1/v2 do), then `{tenantid}`
 * templates whose tenant is allowed (issuer-templates.ts), then the app's `resolveIssuer` for
 * issuers added at run time (issuer-resolver.ts). Also the validation of the issuer options that
 * decide a match: spellings, tenants, clientIds, scopeClaims. Nothing here reaches the network: an
 * `iss` that matches nothing costs no request.
 */
import type { IssuerConfig, IssuerPolicy } from './issuer-config.js'
import { ResolvedIssuers, type IssuerResolver, type ResolverLimits } from './issuer-resolver.js'
import {
  matchTemplate,
  templatesOf,
  TENANT_PATTERN,
  TENANT_PLACEHOLDER,
  type Template,
} from './issuer-templates.js'
import type { Logger } from './log.js'
import { fail } from './options.js'

/** The claims read into `principal.scopes` unless an issuer says otherwise. */
export const DEFAULT_SCOPE_CLAIMS: readonly string[] = Object.freeze(['scope', 'scp'])

/** The issuer a token's `iss` matched. */
export interface IssuerMatch {
  readonly policy: IssuerPolicy
  /** The canonical `iss`: what `principal.issuer` and `principal.key` use. */
  readonly issuer: string
  /** The `{tenantid}` part of `iss`, for a template issuer. */
  readonly tenant: string | undefined
  /** Until when (ms) the match holds: `Infinity` for configured issuers. */
  readonly until: number
}

function nonEmptyStrings(value: unknown, field: string): readonly string[] {
  if (!Array.isArray(value) || value.length === 0)
    fail(field, 'must be a non-empty array of strings')
  for (const [i, item] of (value as unknown[]).entries()) {
    if (typeof item !== 'string' || item === '') {
      fail(`${field}[${String(i)}]`, 'must be a non-empty string')
    }
  }
  return Object.freeze([...(value as string[])])
}

/** Validates `issuer`: one spelling or several; all of them templates, or none. */
export function issuerSpellings(
  value: unknown,
  field: string,
): { spellings: readonly string[]; template: boolean } {
  if (typeof value === 'string' && value === '') fail(field, 'is required: a non-empty string')
  const spellings = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined
  if (spellings === undefined) fail(field, 'is required: a string or an array of spellings')
  const list = nonEmptyStrings(spellings, field)
  if (new Set(list).size !== list.length) fail(field, 'lists a spelling twice')
  const templates = list.filter((spelling) => spelling.includes(TENANT_PLACEHOLDER))
  for (const [i, spelling] of list.entries()) {
    if (spelling.split(TENANT_PLACEHOLDER).length > 2) {
      fail(`${field}[${String(i)}]`, `must hold ${TENANT_PLACEHOLDER} at most once`)
    }
  }
  if (templates.length !== 0 && templates.length !== list.length) {
    fail(field, `must hold ${TENANT_PLACEHOLDER} in every spelling or in none`)
  }
  return { spellings: list, template: templates.length > 0 }
}

/** Validates `tenants`: required with a template issuer, refused without one. */
export function tenantRule(
  value: unknown,
  field: string,
  template: boolean,
): ((tenant: string) => boolean) | undefined {
  if (!template) {
    if (value !== undefined) fail(field, `needs an issuer with ${TENANT_PLACEHOLDER}`)
    return undefined
  }
  if (typeof value === 'function') {
    const allows = value as (tenant: string) => unknown
    return (tenant) => {
      try {
        return allows(tenant) === true
      } catch {
        // A tenant check that cannot decide refuses the tenant.
        return false
      }
    }
  }
  if (value === undefined) {
    fail(field, `is required with ${TENANT_PLACEHOLDER}: a list of tenants or a function`)
  }
  const list = nonEmptyStrings(value, field)
  for (const [i, tenant] of list.entries()) {
    if (!TENANT_PATTERN.test(tenant)) {
      fail(`${field}[${String(i)}]`, 'must match [A-Za-z0-9._-]{1,64}')
    }
  }
  const allowed = new Set(list)
  return (tenant) => allowed.has(tenant)
}

/** Validates an optional non-empty list of strings, such as `clientIds`. */
export function stringSet(value: unknown, field: string): ReadonlySet<string> | undefined {
  return value === undefined ? undefined : new Set(nonEmptyStrings(value, field))
}

/** Validates `scopeClaims`. */
export function scopeClaimList(value: unknown, field: string): readonly string[] {
  return value === undefined ? DEFAULT_SCOPE_CLAIMS : nonEmptyStrings(value, field)
}

/** Settings of the run-time part of {@link IssuerMatcher}. */
export interface MatcherRuntime {
  readonly resolve: IssuerResolver | undefined
  readonly limits: ResolverLimits
  /** Validates a resolver answer exactly like a configured issuer (throws TypeError). */
  readonly validate: (config: IssuerConfig) => IssuerPolicy
  readonly logger: Logger
}

/** Matches `iss` to an issuer. Built once per verifier. */
export class IssuerMatcher {
  readonly #exact = new Map<string, IssuerMatch>()
  readonly #templates: Template[] = []
  // The run-time part, when the options have a `resolveIssuer`.
  readonly #resolver: ResolvedIssuers | undefined

  constructor(policies: readonly IssuerPolicy[], runtime: MatcherRuntime) {
    for (const policy of policies) {
      if (policy.template) this.#templates.push(...templatesOf(policy))
      else {
        for (const spelling of policy.spellings) {
          const match = { policy, issuer: policy.issuer, tenant: undefined, until: Infinity }
          this.#exact.set(spelling, Object.freeze(match))
        }
      }
    }
    this.#resolver =
      runtime.resolve === undefined
        ? undefined
        : new ResolvedIssuers({ ...runtime, resolve: runtime.resolve })
  }

  /**
   * The issuer `iss` names, or `undefined` when none is trusted. A promise only while the
   * resolver is asked; configured issuers answer synchronously.
   */
  match(iss: unknown, now: number): IssuerMatch | undefined | Promise<IssuerMatch | undefined> {
    if (typeof iss !== 'string') return undefined
    const exact = this.#exact.get(iss)
    if (exact !== undefined) return exact
    if (this.#templates.length > 0) {
      const match = matchTemplate(this.#templates, iss, Infinity)
      if (match !== undefined) return match
    }
    return this.#resolver?.resolve(iss, now)
  }

  /** True while a match (from the token cache) still holds: resolver answers expire, tenants go. */
  holds(match: IssuerMatch, now: number): boolean {
    if (match.until <= now) return false
    return match.tenant === undefined || match.policy.tenants?.(match.tenant) === true
  }
}
