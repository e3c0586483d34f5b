/**
 * STEP 3 of API.md: which configured issuer, if any, a token's `iss` names. An exact spelling
 * first (one issuer may have several, as Google and Entra ID v1/v2 do), then `{tenantid}`
 * templates whose tenant is allowed, then the app's `resolveIssuer` for issuers added at run time.
 * Nothing here reaches the network: an `iss` that matches nothing costs no request, and the
 * resolver's answers are cached, shared and rate-limited, so that a spray of made-up issuers
 * cannot become a flood of resolver calls (compare the penalty box of jwks.ts).
 */
import type { IssuerConfig, IssuerPolicy } from './config.js'
import { LogSampler, MAX_LOGGED_ISS, sanitize, type Logger } from './log.js'
import { checkOptionNames, fail } from './options.js'
import { BoundedLru } from './token-cache.js'

/** The part of a template issuer that stands for the tenant. */
export const TENANT_PLACEHOLDER = '{tenantid}'
/** What a tenant may be: short, and nothing that could reshape a URL. */
export const TENANT_PATTERN = /^[A-Za-z0-9._-]{1,64}$/
/** The claims read into `principal.scopes` unless an issuer says otherwise. */
export const DEFAULT_SCOPE_CLAIMS: readonly string[] = Object.freeze(['scope', 'scp'])
/** Most `iss` answers of `resolveIssuer` kept. */
export const RESOLVE_ISSUER_MAX = 1000
/** How long an issuer that `resolveIssuer` returned is trusted before it is asked again: 10 min. */
export const RESOLVE_ISSUER_MAX_AGE_MS = 600_000
/** How long a `null` answer (or a refused one) is kept: 1 min. */
export const RESOLVE_ISSUER_NULL_MAX_AGE_MS = 60_000
/** Resolver calls allowed per second, and in one burst. */
export const RESOLVE_ISSUER_CALLS_PER_SECOND = 10
/** Resolver calls that may be pending at once (a hung resolver cannot pile up promises). */
export const RESOLVE_ISSUER_MAX_PENDING = 100

/** The app's lookup of issuers added at run time. */
export type IssuerResolver = (
  iss: string,
) => IssuerConfig | null | undefined | Promise<IssuerConfig | null | undefined>

/** Limits of `resolveIssuer`. */
export interface ResolveIssuerOptions {
  /** Most answers cached. Default 1000. */
  max?: number
  /** ms an issuer the resolver returned is trusted before it is asked again. Default 600000. */
  maxAge?: number
  /** ms a `null` (or invalid) answer is kept. Default 60000. */
  nullMaxAge?: number
  /** Resolver calls per second, which is also the burst. Default 10. */
  callsPerSecond?: number
}

// The names ResolveIssuerOptions accepts (a typo must not leave a limit at its default).
const RESOLVE_ISSUER_OPTION_NAMES: Readonly<Record<keyof ResolveIssuerOptions, true>> = {
  max: true,
  maxAge: true,
  nullMaxAge: true,
  callsPerSecond: true,
}

/** The validated limits. */
export interface ResolverLimits {
  readonly max: number
  readonly maxAge: number
  readonly nullMaxAge: number
  readonly callsPerSecond: number
}

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

function count(value: unknown, field: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail(field, `must be an integer >= ${String(min)}`)
  }
  return value
}

/** Validates `resolveIssuerOptions`. */
export function resolverLimits(value: unknown, field: string): ResolverLimits {
  if (value === undefined) value = {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(field, 'must be an object')
  }
  const options = value as ResolveIssuerOptions
  checkOptionNames(options, Object.keys(RESOLVE_ISSUER_OPTION_NAMES), field)
  return Object.freeze({
    max: count(options.max, `${field}.max`, RESOLVE_ISSUER_MAX, 1),
    maxAge: count(options.maxAge, `${field}.maxAge`, RESOLVE_ISSUER_MAX_AGE_MS, 0),
    nullMaxAge: count(options.nullMaxAge, `${field}.nullMaxAge`, RESOLVE_ISSUER_NULL_MAX_AGE_MS, 0),
    callsPerSecond: count(
      options.callsPerSecond,
      `${field}.callsPerSecond`,
      RESOLVE_ISSUER_CALLS_PER_SECOND,
      1,
    ),
  })
}

interface Template {
  readonly prefix: string
  readonly suffix: string
  readonly policy: IssuerPolicy
}

function templatesOf(policy: IssuerPolicy): Template[] {
  return policy.spellings.map((spelling) => {
    const [prefix = '', suffix = ''] = spelling.split(TENANT_PLACEHOLDER)
    return { prefix, suffix, policy }
  })
}

/** The match of `iss` against one template issuer, if its tenant is allowed. */
function matchTemplate(templates: readonly Template[], iss: string, until: number) {
  for (const { prefix, suffix, policy } of templates) {
    if (iss.length <= prefix.length + suffix.length) continue
    if (!iss.startsWith(prefix) || !iss.endsWith(suffix)) continue
    const tenant = iss.slice(prefix.length, iss.length - suffix.length)
    // The tenant is checked against the pattern before the app's function ever sees it.
    if (!TENANT_PATTERN.test(tenant) || policy.tenants?.(tenant) !== true) continue
    const issuer = policy.issuer.replace(TENANT_PLACEHOLDER, tenant)
    return Object.freeze({ policy, issuer, tenant, until })
  }
  return undefined
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
  readonly #runtime: MatcherRuntime
  // Issuers the resolver returned, and `iss` it refused, kept apart: a spray of made-up issuers
  // fills only `#refused`, so it can never evict a real tenant's answer.
  readonly #known: BoundedLru<IssuerMatch>
  readonly #refused: BoundedLru<number>
  readonly #pending = new Map<string, Promise<IssuerMatch | undefined>>()
  // One validated policy per answer object, so that a config the resolver hands out for many
  // tenants shares one key source (one JWKS cache) rather than one per `iss`.
  readonly #policies = new WeakMap<object, IssuerPolicy>()
  readonly #sampler = new LogSampler()
  #tokens = 0
  #refilledAt = Number.NEGATIVE_INFINITY

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
    this.#runtime = runtime
    // Not lru-cache: it publishes keys and values on diagnostics channels, and these values hold
    // issuer keys and secrets (see token-cache.ts). Bounded by count alone.
    const limits = {
      max: runtime.limits.max,
      maxBytes: Infinity,
      maxEntryBytes: Infinity,
      heavyEntryBytes: Infinity,
    }
    this.#known = new BoundedLru(limits)
    this.#refused = new BoundedLru(limits)
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
    if (this.#runtime.resolve === undefined) return undefined
    return this.#resolved(iss, now)
  }

  /** True while a match (from the token cache) still holds: resolver answers expire, tenants go. */
  holds(match: IssuerMatch, now: number): boolean {
    if (match.until <= now) return false
    return match.tenant === undefined || match.policy.tenants?.(match.tenant) === true
  }

  #resolved(iss: string, now: number): IssuerMatch | undefined | Promise<IssuerMatch | undefined> {
    const known = this.#known.get(iss)
    if (known !== undefined && known.until > now) return known
    const refusedUntil = this.#refused.get(iss)
    if (refusedUntil !== undefined && refusedUntil > now) return undefined
    const pending = this.#pending.get(iss)
    if (pending !== undefined) return pending
    if (this.#pending.size >= RESOLVE_ISSUER_MAX_PENDING) return undefined
    // Asking again about an issuer the resolver returned costs no token of the bucket: at most
    // `max` such calls per `maxAge`, and a spray that drains the bucket cannot lock a tenant out.
    if (known === undefined && !this.#take(now)) return undefined
    const call = this.#call(iss, now).finally(() => {
      this.#pending.delete(iss)
    })
    this.#pending.set(iss, call)
    return call
  }

  /** A token bucket without a timer: refilled by elapsed time when a call wants a token. */
  #take(now: number): boolean {
    const { callsPerSecond } = this.#runtime.limits
    const elapsed = now - this.#refilledAt
    if (elapsed > 0) {
      this.#tokens = Math.min(callsPerSecond, this.#tokens + (elapsed * callsPerSecond) / 1000)
      this.#refilledAt = now
    }
    if (this.#tokens < 1) return false
    this.#tokens--
    return true
  }

  async #call(iss: string, now: number): Promise<IssuerMatch | undefined> {
    const { resolve, limits } = this.#runtime
    let match: IssuerMatch | undefined
    try {
      const answer = await (resolve as IssuerResolver)(iss)
      match = answer === null || answer === undefined ? undefined : this.#accept(iss, answer, now)
    } catch (error) {
      this.#logFailure(iss, error, now)
      match = undefined
    }
    if (match === undefined) {
      this.#known.delete(iss)
      this.#refused.set(iss, now + limits.nullMaxAge)
    } else {
      this.#refused.delete(iss)
      this.#known.set(iss, match)
    }
    return match
  }

  /** Validates an answer and checks that it names `iss`. Throws for a bad one. */
  #accept(iss: string, answer: IssuerConfig, now: number): IssuerMatch {
    let policy = this.#policies.get(answer)
    if (policy === undefined) {
      policy = this.#runtime.validate(answer)
      this.#policies.set(answer, policy)
    }
    const until = now + this.#runtime.limits.maxAge
    const match = policy.template
      ? matchTemplate(templatesOf(policy), iss, until)
      : policy.spellings.includes(iss)
        ? Object.freeze({ policy, issuer: policy.issuer, tenant: undefined, until })
        : undefined
    // An answer for another issuer would let one `iss` borrow another's keys and rules.
    if (match === undefined) fail('resolveIssuer()', 'answered for another issuer')
    return match
  }

  #logFailure(iss: string, error: unknown, now: number): void {
    const suppressed = this.#sampler.take(now)
    if (suppressed === undefined) return
    this.#runtime.logger.error(
      {
        event: 'resolve_issuer_failed',
        iss: sanitize(iss, MAX_LOGGED_ISS),
        error: sanitize(error instanceof Error ? error.message : 'not an Error', MAX_LOGGED_ISS),
        suppressed,
      },
      'trustgate could not use the answer of resolveIssuer',
    )
  }
}
