/**
 * The run-time part of STEP 3: issuers the app's `resolveIssuer` adds while it runs. Its answers
 * are validated like configured issuers, cached (answers and refusals apart), shared between
 * concurrent requests and rate-limited by a token bucket, so that a spray of made-up issuers cannot
 * become a flood of resolver calls (compare the penalty box of jwks.ts). Configured issuers never
 * come here: issuers.ts answers them first, synchronously.
 */
import type { IssuerConfig, IssuerPolicy } from './issuer-config.js'
import { matchTemplate, templatesOf } from './issuer-templates.js'
import type { IssuerMatch } from './issuers.js'
import { LogSampler, MAX_LOGGED_ISS, sanitize, type Logger } from './log.js'
import { checkOptionNames, fail, integer } from './options.js'
import { BoundedLru } from './token-cache.js'

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

/** Validates `resolveIssuerOptions`. */
export function resolverLimits(value: unknown, field: string): ResolverLimits {
  if (value === undefined) value = {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(field, 'must be an object')
  }
  const options = value as ResolveIssuerOptions
  checkOptionNames(options, Object.keys(RESOLVE_ISSUER_OPTION_NAMES), field)
  return Object.freeze({
    max: integer(options.max, `${field}.max`, RESOLVE_ISSUER_MAX, 1),
    maxAge: integer(options.maxAge, `${field}.maxAge`, RESOLVE_ISSUER_MAX_AGE_MS, 0),
    nullMaxAge: integer(
      options.nullMaxAge,
      `${field}.nullMaxAge`,
      RESOLVE_ISSUER_NULL_MAX_AGE_MS,
      0,
    ),
    callsPerSecond: integer(
      options.callsPerSecond,
      `${field}.callsPerSecond`,
      RESOLVE_ISSUER_CALLS_PER_SECOND,
      1,
    ),
  })
}

/** Settings of the run-time part of the issuer matcher. */
export interface ResolverRuntime {
  readonly resolve: IssuerResolver
  readonly limits: ResolverLimits
  /** Validates a resolver answer exactly like a configured issuer (throws TypeError). */
  readonly validate: (config: IssuerConfig) => IssuerPolicy
  readonly logger: Logger
}

/** The answers of `resolveIssuer`, cached, shared and rate-limited. Built once per verifier. */
export class ResolvedIssuers {
  readonly #runtime: ResolverRuntime
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

  constructor(runtime: ResolverRuntime) {
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
   * The resolver's answer for `iss`: cached, or a promise of a call, or `undefined` when it
   * refused `iss` lately or the rate limit or the cap on pending calls allows no call now.
   */
  resolve(iss: string, now: number): IssuerMatch | undefined | Promise<IssuerMatch | undefined> {
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
      const answer = await resolve(iss)
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
