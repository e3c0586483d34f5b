/**
 * Revocation (API.md, "State shared by many instances"): rules that refuse tokens before they
 * expire, shared by every instance through a {@link RevocationStore}, and checked on every request
 * (STEP 9, a verified-token cache hit included) against a local mirror, so that the hot path costs
 * a few Map lookups and never a round trip to the store.
 *
 * The mirror is kept fresh by push (the store's `subscribe`) and by pull on use: a request that
 * finds the last sync older than `syncInterval` starts one in the background; nothing runs on a
 * timer. A mirror that has not been confirmed within `maxStaleness` (and has no live push channel)
 * is not trusted: by default the request waits for the sync in flight, or is refused with 503
 * `store_unavailable` when the store cannot answer.
 *
 * Every rule expires once no token it could match can still be valid, which bounds the mirror:
 * a `jti` rule at the token's `expiresAt`, a `before` rule at `before + maxTokenLifetime`. For the
 * second to hold, a verifier with revocation on requires `iat` and refuses tokens older than
 * `maxTokenLifetime` (reasons `missing_iat`, `token_too_old`).
 */
import type { Clock } from './clock.js'
import type { ErrorFactory } from './errors.js'
import type { InvalidTokenReason } from './reasons.js'
import { LogSampler, type Logger } from './log.js'
import { checkOptionNames, fail } from './options.js'
import type { Principal } from './principal.js'
import { isObject } from './token.js'
import { isStoreUnavailable, StoreUnavailableError } from './store.js'

/** Revokes one token: the one with this `jti` from this issuer. */
export interface TokenRevocationRule {
  /** The issuer, as in `principal.issuer`. */
  readonly issuer: string
  /** The token's `jti`. */
  readonly jti: string
  /** The token's expiry (`principal.expiresAt`): the rule is kept until then. A number is seconds since the epoch, as `exp`. */
  readonly expiresAt: Date | number
}

/** Revokes every token of one principal issued before a time (logout everywhere, stolen device). */
export interface PrincipalRevocationRule {
  /** `principal.key`: the pair <iss, sub>. */
  readonly principal: string
  /** Tokens whose `iat` is earlier are refused. A number is seconds since the epoch, as `iat`. */
  readonly before: Date | number
}

/** Revokes every token of one issuer issued before a time (a key compromise at the issuer). */
export interface IssuerRevocationRule {
  /** The issuer, as in `principal.issuer`. */
  readonly issuer: string
  /** Tokens whose `iat` is earlier are refused. A number is seconds since the epoch, as `iat`. */
  readonly before: Date | number
}

/** What `verifier.revoke(rule)` takes. */
export type RevocationRule = TokenRevocationRule | PrincipalRevocationRule | IssuerRevocationRule

/**
 * A rule as stores keep and exchange it: times in seconds since the epoch, and `until`, the time
 * after which no token the rule could match can be valid, so that the store may forget it.
 */
export type RevocationRecord =
  | {
      readonly issuer: string
      readonly jti: string
      readonly expiresAt: number
      readonly until: number
    }
  | { readonly principal: string; readonly before: number; readonly until: number }
  | { readonly issuer: string; readonly before: number; readonly until: number }

/** What a store tells the verifiers that subscribe to it. */
export interface RevocationListener {
  /**
   * A rule was added (by any instance, this one included). `version` is the store's version after
   * the rule, when the store keeps one: a listener that sees no gap need not load again.
   */
  onRule(record: RevocationRecord, version?: number): void
  /**
   * The push channel is up (`true`: rules may have been missed while it was down, so the verifier
   * loads again) or down (`false`: the verifier relies on pulls, and their age, until it is back).
   */
  onStatus(live: boolean): void
}

/**
 * Where revocation rules are shared. `add` and `load` may answer at once or with a promise; one
 * that cannot answer throws or rejects (a {@link StoreUnavailableError} for the expected cases).
 */
export interface RevocationStore {
  /** Keeps a rule for every instance until its `until`. May return the store's new version. */
  add(record: RevocationRecord): unknown
  /** Every rule still kept. */
  load(): readonly RevocationRecord[] | Promise<readonly RevocationRecord[]>
  /** A number that changes whenever a rule is added: a pull loads the rules only when it moved. */
  version?(): number | Promise<number>
  /** Push: calls the listener for every rule added, and when the channel goes up or down. */
  subscribe?(listener: RevocationListener): () => void
  /** The store's own answer to "what if I cannot be reached"; the verifier's option wins. */
  readonly onUnavailable?: UnavailablePolicy | undefined
}

/**
 * What happens while a store cannot answer. `fail-closed` (default): refuse with 503
 * `store_unavailable`. `fallback`: keep deciding in process (revocation: the last known rules and
 * those revoked here; replay: a bounded memory store). `accept`: let the request through and log it.
 */
export type UnavailablePolicy = 'fail-closed' | 'fallback' | 'accept'

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
/** Default `maxRules`. */
export const REVOCATION_MAX_RULES = 100_000
/** Longest `issuer`, `principal` or `jti` of a rule, in characters. */
export const MAX_RULE_FIELD_LENGTH = 2048

// A `before` more than this far ahead of the clock would refuse tokens not issued yet: a ban, not
// a revocation. Seconds.
const MAX_FUTURE_BEFORE_S = 60
// Seconds since the epoch above this are milliseconds by mistake (the year 5138).
const MAX_SECONDS = 1e11
// Expired rules are swept from the mirror at most this often (ms), and whenever it is full.
const SWEEP_INTERVAL_MS = 60_000
const POLICIES: ReadonlySet<string> = new Set(['fail-closed', 'fallback', 'accept'])
const OPTION_NAMES: Readonly<Record<keyof RevocationOptions, true>> = {
  store: true,
  maxTokenLifetime: true,
  syncInterval: true,
  maxStaleness: true,
  maxRules: true,
  onUnavailable: true,
}

function isField(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value.length <= MAX_RULE_FIELD_LENGTH
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 && value < MAX_SECONDS
}

/**
 * The canonical text of a record, the same on every instance: stores key and deduplicate rules by
 * it, and exchange it.
 */
export function serializeRevocation(record: RevocationRecord): string {
  if ('jti' in record) {
    const { issuer, jti, expiresAt, until } = record
    return JSON.stringify({ issuer, jti, expiresAt, until })
  }
  if ('principal' in record) {
    const { principal, before, until } = record
    return JSON.stringify({ principal, before, until })
  }
  const { issuer, before, until } = record
  return JSON.stringify({ issuer, before, until })
}

/**
 * A record read from a store (an object, or the text of {@link serializeRevocation}), checked;
 * `undefined` for anything else. A store is shared with other processes, so nothing it answers is
 * used unchecked.
 */
export function parseRevocation(value: unknown): RevocationRecord | undefined {
  let data = value
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data)
    } catch {
      return undefined
    }
  }
  if (!isObject(data) || !isTime(data.until)) return undefined
  const { until } = data
  if (isField(data.jti)) {
    if (!isField(data.issuer) || !isTime(data.expiresAt) || 'principal' in data) return undefined
    return { issuer: data.issuer, jti: data.jti, expiresAt: data.expiresAt, until }
  }
  if (!isTime(data.before) || 'jti' in data || 'expiresAt' in data) return undefined
  if (isField(data.principal) && !('issuer' in data)) {
    return { principal: data.principal, before: data.before, until }
  }
  if (isField(data.issuer) && !('principal' in data)) {
    return { issuer: data.issuer, before: data.before, until }
  }
  return undefined
}

function ruleTime(value: unknown, field: string): number {
  if (value instanceof Date) {
    const ms = value.getTime()
    if (Number.isNaN(ms)) fail(field, 'is an invalid Date')
    return ms / 1000
  }
  if (typeof value === 'number' && value >= MAX_SECONDS) {
    fail(field, 'looks like milliseconds: give a Date, or seconds since the epoch as in exp/iat')
  }
  if (!isTime(value)) fail(field, 'must be a Date, or seconds since the epoch as in exp/iat')
  return value
}

/** The times a mirror and a store keep rules for. */
interface Lifetimes {
  /** `maxTokenLifetime`, seconds. */
  readonly lifetime: number
  /** The largest clock tolerance of any issuer, seconds. */
  readonly tolerance: number
}

/** Checks a rule given to `revoke()` and turns it into a record. Throws a TypeError naming the field. */
function toRecord(
  rule: unknown,
  now: number,
  { lifetime, tolerance }: Lifetimes,
): RevocationRecord {
  if (!isObject(rule)) fail('rule', 'must be an object')
  const names = Object.keys(rule).sort().join(',')
  const field = (name: string, value: unknown): string => {
    if (!isField(value)) {
      fail(
        `rule.${name}`,
        `must be a non-empty string of at most ${MAX_RULE_FIELD_LENGTH} characters`,
      )
    }
    return value
  }
  if (names === 'expiresAt,issuer,jti') {
    const expiresAt = ruleTime(rule.expiresAt, 'rule.expiresAt')
    // A token alive now was issued by now (iat checks allow `tolerance`), and a verifier with
    // revocation on refuses it `lifetime` after `iat`: the rule need not outlive either bound.
    const until = Math.min(expiresAt + tolerance, now + lifetime + 2 * tolerance)
    return { issuer: field('issuer', rule.issuer), jti: field('jti', rule.jti), expiresAt, until }
  }
  if (names === 'before,principal' || names === 'before,issuer') {
    const before = ruleTime(rule.before, 'rule.before')
    if (before > now + MAX_FUTURE_BEFORE_S) {
      fail('rule.before', 'must not be in the future: a rule revokes tokens already issued')
    }
    // A token issued before `before` is refused as too old `lifetime` (+ tolerance) after it.
    const until = before + lifetime + tolerance
    return 'principal' in rule
      ? { principal: field('principal', rule.principal), before, until }
      : { issuer: field('issuer', rule.issuer), before, until }
  }
  return fail(
    'rule',
    'must be { issuer, jti, expiresAt }, { principal, before } or { issuer, before }',
  )
}

interface Cutoff {
  before: number
  until: number
}

/**
 * The local copy of the rules, indexed for the hot path: tokens by issuer then `jti`, cut-offs by
 * principal key and by issuer. Bounded by `max`; expired rules are swept, never live ones.
 */
class Mirror {
  readonly #jtis = new Map<string, Map<string, number>>()
  readonly #principals = new Map<string, Cutoff>()
  readonly #issuers = new Map<string, Cutoff>()
  readonly #max: number
  #size = 0
  #sweptAt = Number.NEGATIVE_INFINITY

  constructor(max: number) {
    this.#max = max
  }

  get size(): number {
    return this.#size
  }

  /** Adds a record (the strictest cut-off and the longest `until` win); `false` when it is full. */
  add(record: RevocationRecord, now: number): boolean {
    const { until } = record
    if (until <= now) return true
    if ('jti' in record) {
      let jtis = this.#jtis.get(record.issuer)
      const known = jtis?.get(record.jti)
      if (known !== undefined) {
        if (until > known) jtis?.set(record.jti, until)
        return true
      }
      if (!this.#room(now)) return false
      if (jtis === undefined) this.#jtis.set(record.issuer, (jtis = new Map<string, number>()))
      jtis.set(record.jti, until)
    } else {
      const map = 'principal' in record ? this.#principals : this.#issuers
      const name = 'principal' in record ? record.principal : record.issuer
      const known = map.get(name)
      if (known !== undefined) {
        known.before = Math.max(known.before, record.before)
        known.until = Math.max(known.until, until)
        return true
      }
      if (!this.#room(now)) return false
      map.set(name, { before: record.before, until })
    }
    this.#size++
    return true
  }

  #room(now: number): boolean {
    if (this.#size < this.#max) return true
    this.sweep(now)
    return this.#size < this.#max
  }

  /** Drops expired rules; at most once per interval unless `force`. */
  sweep(now: number, force = true): void {
    if (!force && now * 1000 - this.#sweptAt < SWEEP_INTERVAL_MS) return
    this.#sweptAt = now * 1000
    for (const [issuer, jtis] of this.#jtis) {
      for (const [jti, until] of jtis) {
        if (until <= now) {
          jtis.delete(jti)
          this.#size--
        }
      }
      if (jtis.size === 0) this.#jtis.delete(issuer)
    }
    for (const map of [this.#principals, this.#issuers]) {
      for (const [name, cutoff] of map) {
        if (cutoff.until <= now) {
          map.delete(name)
          this.#size--
        }
      }
    }
  }

  /**
   * True if a rule revokes the token. An expired rule that is still held cannot match a token
   * that passed the age check, so none is looked at twice.
   */
  revokes(principal: Principal, iat: number): boolean {
    if (this.#size === 0) return false
    const byIssuer = this.#issuers.get(principal.issuer)
    if (byIssuer !== undefined && iat < byIssuer.before) return true
    const byPrincipal = this.#principals.get(principal.key)
    if (byPrincipal !== undefined && iat < byPrincipal.before) return true
    const { jti } = principal.claims
    return typeof jti === 'string' && this.#jtis.get(principal.issuer)?.has(jti) === true
  }
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

function milliseconds(value: unknown, field: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail(field, `must be an integer >= ${min}`)
  }
  return value
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
  const syncInterval = milliseconds(
    options.syncInterval,
    'revocation.syncInterval',
    REVOCATION_SYNC_INTERVAL_MS,
    0,
  )
  const maxStaleness = milliseconds(
    options.maxStaleness,
    'revocation.maxStaleness',
    REVOCATION_MAX_STALENESS_MS,
    0,
  )
  const maxRules = milliseconds(options.maxRules, 'revocation.maxRules', REVOCATION_MAX_RULES, 1)
  const policy = options.onUnavailable ?? store.onUnavailable ?? 'fail-closed'
  if (!POLICIES.has(policy)) {
    fail('revocation.onUnavailable', "must be 'fail-closed', 'fallback' or 'accept'")
  }
  const lifetimes: Lifetimes = { lifetime, tolerance }
  const mirror = new Mirror(maxRules)
  // Rules revoked here that the store has not taken yet: sent again by the next pull.
  const pending = new Map<string, RevocationRecord>()
  const storeSampler = new LogSampler()
  const uncheckedSampler = new LogSampler()

  // Sync state. Intervals are measured on the monotonic clock: a wall clock set back must not make
  // an old mirror look fresh.
  let lastOkAt = Number.NEGATIVE_INFINITY
  let failing = false
  let pulling: Promise<void> | undefined
  let nextPullAt = Number.NEGATIVE_INFINITY
  let pushLive = false
  let pushLiveSince = Number.NEGATIVE_INFINITY
  // The mirror lacks rules it had no room for: it is not trusted until a full load fits.
  let overflow = false
  let reload = true
  let version: number | undefined

  function logStore(message: string, error?: unknown): void {
    const suppressed = storeSampler.take(clock.monotonic())
    if (suppressed === undefined) return
    logger.warn(
      {
        event: 'revocation_store_unavailable',
        error: error instanceof Error ? error.message : undefined,
        suppressed,
      },
      message,
    )
  }

  function remember(record: RevocationRecord): void {
    if (!mirror.add(record, clock.now() / 1000)) {
      overflow = true
      reload = true
    }
  }

  function pull(): Promise<void> {
    const started = clock.monotonic()
    pulling = (async () => {
      try {
        // Rules revoked here while the store could not take them. One the store still refuses
        // (full, or down) stays pending, and does not stop this pull from reading the others.
        try {
          for (const [text, record] of pending) {
            await store.add(record)
            pending.delete(text)
          }
        } catch (error) {
          logStore('trustgate could not store a revocation: it holds on this instance only', error)
        }
        const current = store.version === undefined ? undefined : await store.version()
        if (reload || current === undefined || current !== version) {
          const records = await store.load()
          if (!Array.isArray(records))
            throw new TypeError('the store answered load() without a list')
          mirror.sweep(clock.now() / 1000)
          overflow = false
          let invalid = 0
          for (const item of records) {
            const record = parseRevocation(item)
            if (record === undefined) invalid++
            else remember(record)
          }
          // An unreadable rule may be a revocation: it is reported, as a store fault, every time.
          if (invalid > 0) {
            logger.error(
              { event: 'revocation_record_invalid', count: invalid },
              'trustgate ignored revocation records it cannot read',
            )
          }
          reload = overflow
          version = current
        } else {
          mirror.sweep(clock.now() / 1000, false)
        }
        lastOkAt = started
        failing = false
      } catch (error) {
        failing = true
        // A custom store's own bug is a store fault here too, and is logged as one.
        logStore(
          isStoreUnavailable(error)
            ? 'trustgate cannot reach the revocation store'
            : 'trustgate revocation store failed',
          error,
        )
      } finally {
        pulling = undefined
        nextPullAt = clock.monotonic() + syncInterval
      }
    })()
    return pulling
  }

  // Trusted: a live subscription that a successful pull followed, or a pull that succeeded within
  // maxStaleness. A failed pull ends the first (the subscription may be half-dead) but not the
  // second: one command timed out by an event-loop stall must not refuse every request at once.
  function fresh(mono: number): boolean {
    return (
      !overflow &&
      ((pushLive && !failing && lastOkAt >= pushLiveSince) || mono - lastOkAt <= maxStaleness)
    )
  }

  function decide(principal: Principal, nowMs: number): Principal {
    const { iat } = principal.claims
    let reason: InvalidTokenReason | undefined
    if (typeof iat !== 'number') reason = 'missing_iat'
    else if (nowMs / 1000 - iat > lifetime + tolerance) reason = 'token_too_old'
    else if (mirror.revokes(principal, iat)) reason = 'revoked'
    if (reason !== undefined) throw errors.invalidToken(reason)
    return principal
  }

  function unchecked(principal: Principal, nowMs: number): Principal {
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

  if (store.subscribe !== undefined) {
    store.subscribe({
      onRule(item, storeVersion) {
        const record = parseRevocation(item)
        if (record === undefined) return
        remember(record)
        if (storeVersion !== undefined && version !== undefined && storeVersion === version + 1) {
          version = storeVersion
        }
      },
      onStatus(live) {
        pushLive = live
        if (!pushLive) return
        // Rules added while the channel was down were missed: load them now.
        pushLiveSince = clock.monotonic()
        reload = true
        if (pulling === undefined) void pull()
      },
    })
  }
  // The first load starts now, so that the first request finds it done or in flight.
  if (pulling === undefined) void pull()

  return {
    ready(mono) {
      if (pulling === undefined && mono >= nextPullAt) void pull()
      // Fresh; or the store failed and `fallback`/`accept` answer from the mirror; or there is
      // no pull to wait for, and `fail-closed` answers 503 at once.
      return fresh(mono) || (failing && policy !== 'fail-closed') || pulling === undefined
    },
    admitCached(principal, nowMs, mono) {
      if (fresh(mono)) return decide(principal, nowMs)
      if (policy === 'fail-closed') throw errors.storeUnavailable('revocation_unavailable')
      return unchecked(principal, nowMs)
    },
    admit(principal, nowMs, mono) {
      if (pulling === undefined && mono >= nextPullAt) void pull()
      if (fresh(mono)) return decide(principal, nowMs)
      if (failing && policy !== 'fail-closed') return unchecked(principal, nowMs)
      const inFlight = pulling
      if (inFlight === undefined) {
        if (policy === 'fail-closed') throw errors.storeUnavailable('revocation_unavailable')
        return unchecked(principal, nowMs)
      }
      // The mirror is being synced (start-up, after an idle spell, after an outage): wait for it,
      // for at most the store's own timeout, rather than decide on a list that may be old.
      return inFlight.then(() => {
        if (fresh(clock.monotonic())) return decide(principal, clock.now())
        if (policy === 'fail-closed') throw errors.storeUnavailable('revocation_unavailable')
        return unchecked(principal, clock.now())
      })
    },
    async revoke(rule) {
      const record = toRecord(rule, clock.now() / 1000, lifetimes)
      // In force here at once, whatever the store answers.
      remember(record)
      try {
        const added = await store.add(record)
        if (typeof added === 'number' && version !== undefined && added === version + 1) {
          version = added
        }
      } catch (error) {
        if (pending.size < maxRules) pending.set(serializeRevocation(record), record)
        logStore('trustgate could not store a revocation: it holds on this instance only', error)
        if (policy === 'fail-closed') {
          throw new StoreUnavailableError(
            'the revocation store cannot take the rule: it holds on this instance, and is sent again at the next successful sync',
          )
        }
      }
      if (overflow) {
        throw new StoreUnavailableError(
          'the revocation mirror is full (revocation.maxRules): requests are refused until rules expire',
        )
      }
    },
  }
}

/** Options of {@link createMemoryRevocationStore}. */
export interface MemoryRevocationStoreOptions {
  /** Most rules held. Default 100000 (some 50 MiB: see the README). A full store refuses new rules. */
  max?: number
}

/**
 * A revocation store in process memory: for one process, or for several verifiers of one process.
 * Nothing leaves the process, so every verifier that shares it sees a rule at once (push).
 */
export function createMemoryRevocationStore(
  options: MemoryRevocationStoreOptions = {},
): RevocationStore {
  if (!isObject(options)) fail('createMemoryRevocationStore options', 'must be an object')
  checkOptionNames(options, ['max'], 'createMemoryRevocationStore options')
  const max = milliseconds(options.max, 'max', REVOCATION_MAX_RULES, 1)
  const records = new Map<string, RevocationRecord>()
  const listeners = new Set<RevocationListener>()
  let version = 0

  function prune(): void {
    const now = Date.now() / 1000
    for (const [text, record] of records) if (record.until <= now) records.delete(text)
  }

  return Object.freeze({
    add(item: RevocationRecord): number {
      const record = parseRevocation(item)
      if (record === undefined) throw new TypeError('not a revocation record')
      const text = serializeRevocation(record)
      if (!records.has(text)) {
        if (records.size >= max) prune()
        if (records.size >= max) throw new StoreUnavailableError('the revocation store is full')
        records.set(text, record)
      }
      version++
      for (const listener of listeners) listener.onRule(record, version)
      return version
    },
    load(): RevocationRecord[] {
      prune()
      return [...records.values()]
    },
    version(): number {
      return version
    },
    subscribe(listener: RevocationListener): () => void {
      listeners.add(listener)
      listener.onStatus(true)
      return () => {
        listeners.delete(listener)
      }
    },
  })
}
