/**
 * Revocation (API.md, "State shared by many instances"): rules that refuse tokens before they
 * expire, shared by every instance through a {@link RevocationStore}, and checked on every request
 * (STEP 9, a verified-token cache hit included) against a local mirror (revocation-mirror.ts),
 * kept in step with the store by revocation-sync.ts. This module validates the `revocation`
 * option and decides what a request gets while the mirror is not confirmed fresh: by default it
 * waits for the sync in flight, or is refused with 503 `store_unavailable` when the store cannot
 * answer (`onUnavailable`).
 *
 * For the mirror to stay bounded, a verifier with revocation on requires `iat` and refuses tokens
 * older than `maxTokenLifetime` (reasons `missing_iat`, `token_too_old`): see revocation-rules.ts.
 */
import type { Clock } from './clock.js'
import type { ErrorFactory } from './errors.js'
import { LogSampler, type Logger } from './log.js'
import { checkOptionNames, fail, integer } from './options.js'
import type { Principal } from './principal.js'
import { Mirror } from './revocation-mirror.js'
import { toRecord, type Lifetimes, type RevocationRule } from './revocation-rules.js'
import { REVOCATION_MAX_RULES, type RevocationStore } from './revocation-store.js'
import { RevocationSync } from './revocation-sync.js'
import { StoreUnavailableError, UNAVAILABLE_POLICIES, type UnavailablePolicy } from './store.js'
import { isObject } from './token.js'

/** `VerifierOptions.revocation`. */
export interface RevocationOptions {
  /** Where rules are shared: `createMemoryRevocationStore()` or `@trustgate/redis`. */
  store: RevocationStore
  /**
   * Seconds: the longest lifetime of a token accepted. A `before` rule is kept this long after its
   * `before`, so tokens older than this (by `iat`) are refused. Default 86400 (24 h).
   */
  maxTokenLifetime?: number
  /** Milliseconds between pulls, started by requests (never a timer). Default 1000. */
  syncInterval?: number
  /**
   * Milliseconds a mirror stays trusted after its last confirmed sync, while no push channel is
   * live. Default 5000.
   */
  maxStaleness?: number
  /** Most rules held in the local mirror. Default 100000 (some 50 MiB: see the README). */
  maxRules?: number
  /** What to do while the store cannot answer. Default: the store's own, else `fail-closed`. */
  onUnavailable?: UnavailablePolicy
}

/** Default `maxTokenLifetime`: 24 hours, in seconds (Auth0's default access token lifetime). */
export const MAX_TOKEN_LIFETIME_S = 86_400
/** Default `syncInterval`, in milliseconds. */
export const REVOCATION_SYNC_INTERVAL_MS = 1000
/** Default `maxStaleness`, in milliseconds. */
export const REVOCATION_MAX_STALENESS_MS = 5000

const OPTION_NAMES: Readonly<Record<keyof RevocationOptions, true>> = {
  store: true,
  maxTokenLifetime: true,
  syncInterval: true,
  maxStaleness: true,
  maxRules: true,
  onUnavailable: true,
}

/** STEP 9 of the verifier, and `verifier.revoke`. */
export interface Revocation {
  /**
   * Starts a pull that is due, and says whether {@link Revocation.admitCached} can answer now:
   * `false` while the mirror is not confirmed fresh and a pull it should wait for is in flight,
   * and the caller must go through {@link Revocation.admit}. Asked before any check with a side
   * effect (a DPoP proof's claim), so that a request is never checked twice.
   */
  ready(monoMs: number): boolean
  /**
   * The synchronous check of a request, once {@link Revocation.ready} said yes: returns the
   * principal, or throws the `AuthError` of a refused token (or of a store that cannot answer).
   */
  admitCached(principal: Principal, nowMs: number, monoMs: number): Principal
  /** The check of a request, waiting for the sync in flight when the mirror is not fresh. */
  admit(principal: Principal, nowMs: number, monoMs: number): Principal | Promise<Principal>
  /** Adds a rule here at once, and to the store for every other instance. */
  revoke(rule: RevocationRule): Promise<void>
}

/**
 * Validates `VerifierOptions.revocation` and builds STEP 9 over it. `tolerance` is the largest
 * clock tolerance of the configured issuers, in seconds; `clock` the verifier's (clock.ts).
 */
export function createRevocation(
  options: RevocationOptions,
  errors: ErrorFactory,
  logger: Logger,
  tolerance: number,
  clock: Clock,
): Revocation {
  if (!isObject(options)) fail('revocation', 'must be an object')
  checkOptionNames(options, Object.keys(OPTION_NAMES), 'revocation')
  const { store } = options
  if (!isObject(store) || typeof store.add !== 'function' || typeof store.load !== 'function') {
    fail('revocation.store', 'must be a revocation store: { add(record), load() }')
  }
  for (const name of ['version', 'subscribe'] as const) {
    if (store[name] !== undefined && typeof store[name] !== 'function') {
      fail(`revocation.store.${name}`, 'must be a function')
    }
  }
  const lifetime = options.maxTokenLifetime ?? MAX_TOKEN_LIFETIME_S
  if (typeof lifetime !== 'number' || !Number.isFinite(lifetime) || lifetime <= 0) {
    fail('revocation.maxTokenLifetime', 'must be a finite number of seconds > 0')
  }
  const syncInterval = integer(
    options.syncInterval,
    'revocation.syncInterval',
    REVOCATION_SYNC_INTERVAL_MS,
    0,
  )
  const maxStaleness = integer(
    options.maxStaleness,
    'revocation.maxStaleness',
    REVOCATION_MAX_STALENESS_MS,
    0,
  )
  const maxRules = integer(options.maxRules, 'revocation.maxRules', REVOCATION_MAX_RULES, 1)
  const policy: UnavailablePolicy = options.onUnavailable ?? store.onUnavailable ?? 'fail-closed'
  if (!UNAVAILABLE_POLICIES.has(policy)) {
    fail('revocation.onUnavailable', "must be 'fail-closed', 'fallback' or 'accept'")
  }
  const lifetimes: Lifetimes = { lifetime, tolerance }
  const mirror = new Mirror(maxRules, lifetime + tolerance)
  const sync = new RevocationSync(
    store,
    mirror,
    { syncInterval, maxStaleness, maxRules },
    logger,
    clock,
  )
  const uncheckedSampler = new LogSampler()

  function decide(principal: Principal, nowMs: number): Principal {
    const reason = mirror.refusal(principal, nowMs)
    if (reason !== undefined) throw errors.invalidToken(reason)
    return principal
  }

  // The mirror is not confirmed fresh and there is nothing to wait for: the policy decides.
  function unconfirmed(principal: Principal, nowMs: number): Principal {
    if (policy === 'fail-closed') throw errors.storeUnavailable('revocation_unavailable')
    if (policy === 'accept') {
      const suppressed = uncheckedSampler.take(clock.monotonic())
      if (suppressed !== undefined) {
        logger.warn(
          { event: 'revocation_unchecked', suppressed },
          'trustgate accepted a token without a confirmed revocation list',
        )
      }
    }
    return decide(principal, nowMs)
  }

  return {
    ready(mono) {
      sync.pullIfDue(mono)
      // Fresh; or the store failed and `fallback`/`accept` answer from the mirror; or there is
      // no pull to wait for, and `fail-closed` answers 503 at once.
      return (
        sync.fresh(mono) || (sync.failing && policy !== 'fail-closed') || sync.pulling === undefined
      )
    },
    admitCached(principal, nowMs, mono) {
      return sync.fresh(mono) ? decide(principal, nowMs) : unconfirmed(principal, nowMs)
    },
    admit(principal, nowMs, mono) {
      sync.pullIfDue(mono)
      if (sync.fresh(mono)) return decide(principal, nowMs)
      const inFlight = sync.pulling
      if (inFlight === undefined || (sync.failing && policy !== 'fail-closed')) {
        return unconfirmed(principal, nowMs)
      }
      // The mirror is being synced (start-up, after an idle spell, after an outage): wait for it,
      // for at most the store's own timeout, rather than decide on a list that may be old.
      return inFlight.then(() =>
        sync.fresh(clock.monotonic())
          ? decide(principal, clock.now())
          : unconfirmed(principal, clock.now()),
      )
    },
    async revoke(rule) {
      // In force here at once, whatever the store answers.
      const stored = await sync.add(toRecord(rule, clock.now() / 1000, lifetimes))
      if (!stored && policy === 'fail-closed') {
        throw new StoreUnavailableError(
          'the revocation store cannot take the rule: it holds on this instance, and is sent again at the next successful sync',
        )
      }
      if (sync.overflow) {
        throw new StoreUnavailableError(
          'the revocation mirror is full (revocation.maxRules): requests are refused until rules expire',
        )
      }
    },
  }
}
