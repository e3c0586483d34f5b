/**
 * `createRedisStore`: the replay store (DPoP proof `jti`s) and the revocation store of trustgate
 * over one Redis that every instance of an API shares.
 *
 * - A claim is one atomic `SET key 1 NX PX ttl`, never a read then a write: of any number of
 *   instances claiming the same key at once, exactly one wins. The key is the prefix and the
 *   SHA-256 of the claimed value, so no token, `jti` or client key ever appears in a Redis key.
 * - Revocation rules live in one sorted set scored by the time they may be forgotten (so Redis
 *   drops expired rules), with a version counter; a Lua script adds a rule, bumps the version and
 *   publishes the rule in one step, so every subscribed verifier hears of it within a round trip,
 *   and one that missed a message sees the version move at its next pull.
 * - Every command is refused at once while the client is disconnected and abandoned after
 *   `commandTimeout`: an outage costs a request a bounded wait, never a queue.
 */
import { createHash } from 'node:crypto'
import {
  checkOptionNames,
  configError,
  createMemoryReplayStore,
  parseRevocation,
  serializeRevocation,
  StoreUnavailableError,
  type Logger,
  type ReplayStore,
  type RevocationListener,
  type RevocationRecord,
  type RevocationStore,
  type UnavailablePolicy,
} from '@trustgate/core'
import { pino } from 'pino'
import { createDriver, type Driver, type RedisClient, type Subscription } from './client.js'

export type { IoRedisClient, NodeRedisClient, RedisClient } from './client.js'

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /**
   * The application's client: node-redis (`createClient()` of `redis` v4/v5) or ioredis, connected
   * by the application. The store never connects or quits it; pub/sub uses its `duplicate()`.
   */
  client: RedisClient
  /** Prepended to every key and channel. Default `trustgate:`. */
  prefix?: string
  /**
   * While Redis cannot answer: `fail-closed` (default) refuses (503 `store_unavailable`);
   * `fallback` claims in a bounded memory store of this process and keeps the last known
   * revocation rules; `accept` lets claims through and logs each (sampled).
   */
  onUnavailable?: UnavailablePolicy
  /** Milliseconds before a command is given up as unanswered. Default 500. */
  commandTimeout?: number
  /** Listen for new revocation rules by pub/sub (a second connection). Default `true`. */
  subscribe?: boolean
  /** Most revocation rules kept in Redis. Default 100000; a full set refuses new rules. */
  maxRules?: number
  /** Most keys of the `fallback` memory replay store. Default 100000. */
  maxFallbackKeys?: number
  /** Where `fallback` and `accept` say what they let through. Default: pino at level `info`. */
  logger?: Logger
}

/** A replay store and a revocation store over one Redis. */
export interface RedisStore extends ReplayStore, RevocationStore {
  /** Claims `key` for `ttlMs` (one `SET NX PX`). Rejects with StoreUnavailableError when failing closed. */
  claim(key: string, ttlMs: number): Promise<boolean>
  readonly onUnavailable: UnavailablePolicy
  /** Which client library the store drives. */
  readonly client: 'node-redis' | 'ioredis'
  /** Ends the pub/sub connection. Also done when the application's client ends. */
  close(): Promise<void>
}

/** Default `commandTimeout`, in milliseconds. */
export const REDIS_COMMAND_TIMEOUT_MS = 500
/** Default `prefix`. */
export const REDIS_PREFIX = 'trustgate:'
/** Default `maxRules`. */
export const REDIS_MAX_RULES = 100_000
/** Default `maxFallbackKeys`. */
export const REDIS_FALLBACK_KEYS = 100_000

const OPTION_NAMES: Readonly<Record<keyof RedisStoreOptions, true>> = {
  client: true,
  prefix: true,
  onUnavailable: true,
  commandTimeout: true,
  subscribe: true,
  maxRules: true,
  maxFallbackKeys: true,
  logger: true,
}
const POLICIES: ReadonlySet<string> = new Set(['fail-closed', 'fallback', 'accept'])
// Redis keys are binary-safe, but a prefix is also a channel name and goes into log lines.
const PREFIX = /^[\x21-\x7e]{0,64}$/
const LOG_WINDOW_MS = 5000

// KEYS[1] the rule set, KEYS[2] the version. ARGV: member, until (ms), now (ms), max, channel.
// One script, so that the rule, the version and the message can never disagree.
const ADD_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false and
   redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return redis.error_reply('TRUSTGATE_FULL the revocation rule set is full')
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[5], version .. ' ' .. ARGV[1])
return version`

// Rules read per ZSCAN page: each page is one short command, within commandTimeout however
// many rules there are (100,000 in one reply would not be).
const LOAD_PAGE = '1000'

function integer(value: unknown, field: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw configError(field, `must be an integer >= ${min}`)
  }
  return value
}

/**
 * Creates the stores over the application's Redis client. Pass the result as
 * `revocation: { store }` and as the DPoP `replayStore` of every instance.
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw configError('options', 'must be an object')
  }
  checkOptionNames(options, Object.keys(OPTION_NAMES))
  const commandTimeout = integer(
    options.commandTimeout,
    'commandTimeout',
    REDIS_COMMAND_TIMEOUT_MS,
    1,
  )
  const driver: Driver = createDriver(options.client, commandTimeout)
  const prefix = options.prefix ?? REDIS_PREFIX
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw configError('prefix', 'must be at most 64 printable ASCII characters without spaces')
  }
  const policy = options.onUnavailable ?? 'fail-closed'
  if (!POLICIES.has(policy)) {
    throw configError('onUnavailable', "must be 'fail-closed', 'fallback' or 'accept'")
  }
  const push = options.subscribe ?? true
  if (typeof push !== 'boolean') throw configError('subscribe', 'must be a boolean')
  const maxRules = integer(options.maxRules, 'maxRules', REDIS_MAX_RULES, 1)
  const maxFallbackKeys = integer(
    options.maxFallbackKeys,
    'maxFallbackKeys',
    REDIS_FALLBACK_KEYS,
    1,
  )
  const logger = options.logger ?? pino({ level: 'info', name: 'trustgate-redis' })
  for (const level of ['warn', 'error'] as const) {
    if (typeof logger[level] !== 'function') {
      throw configError('logger', `must be a pino logger (no ${level}())`)
    }
  }

  // Redis Cluster: both revocation keys carry one hash tag, so the scripts touch one slot.
  const rulesKey = `${prefix}{revocation}:rules`
  const versionKey = `${prefix}{revocation}:version`
  const channel = `${prefix}revocation`
  const fallback =
    policy === 'fallback' ? createMemoryReplayStore({ max: maxFallbackKeys }) : undefined
  let windowStart = Number.NEGATIVE_INFINITY
  let suppressed = 0

  function logOutage(event: string, error: unknown): void {
    const now = performance.now()
    if (now - windowStart < LOG_WINDOW_MS) {
      suppressed++
      return
    }
    windowStart = now
    logger.warn(
      {
        event,
        onUnavailable: policy,
        error: error instanceof Error ? error.message : undefined,
        suppressed,
      },
      'trustgate cannot reach Redis',
    )
    suppressed = 0
  }

  function replayKey(key: string): string {
    // Hashed: the claimed value (a proof jti with its client's key) never becomes a Redis key.
    return `${prefix}replay:${createHash('sha256').update(key).digest('base64url')}`
  }

  // One pub/sub connection for every verifier that subscribes (several plugin registrations
  // share it), opened with the first and closed with the last.
  const listeners = new Set<RevocationListener>()
  let subscription: Subscription | undefined
  let live = false

  function subscribe(listener: RevocationListener): () => void {
    listeners.add(listener)
    if (subscription === undefined) {
      subscription = driver.subscribe(
        channel,
        (message) => {
          // `<version> <rule>`, as the add script publishes it.
          const space = message.indexOf(' ')
          const version = Number(message.slice(0, space))
          const record = parseRevocation(message.slice(space + 1))
          if (record === undefined) return
          for (const each of listeners) {
            each.onRule(record, Number.isSafeInteger(version) ? version : undefined)
          }
        },
        (up) => {
          live = up
          for (const each of listeners) each.onStatus(up)
        },
      )
    } else if (live) {
      listener.onStatus(true)
    }
    return () => {
      listeners.delete(listener)
      if (listeners.size === 0) void close()
    }
  }

  async function close(): Promise<void> {
    const open = subscription
    subscription = undefined
    live = false
    await open?.close()
  }
  driver.onEnd(() => {
    void close()
  })

  return Object.freeze({
    client: driver.kind,
    onUnavailable: policy,

    async claim(key: string, ttlMs: number): Promise<boolean> {
      if (typeof key !== 'string' || key === '')
        throw new TypeError('key must be a non-empty string')
      if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
        throw new TypeError('ttlMs must be a number > 0')
      }
      try {
        const reply = await driver.command([
          'SET',
          replayKey(key),
          '1',
          'NX',
          'PX',
          String(Math.ceil(ttlMs)),
        ])
        return reply === 'OK'
      } catch (error) {
        logOutage('replay_store_unavailable', error)
        if (fallback !== undefined) return fallback.claim(key, ttlMs)
        if (policy === 'accept') return true
        throw error
      }
    },

    async add(record: RevocationRecord): Promise<number> {
      const member = serializeRevocation(record)
      const until = Math.ceil(record.until * 1000)
      const version = await driver.command([
        'EVAL',
        ADD_SCRIPT,
        '2',
        rulesKey,
        versionKey,
        member,
        String(until),
        String(Date.now()),
        String(maxRules),
        channel,
      ])
      return Number(version)
    },

    async load(): Promise<RevocationRecord[]> {
      // ZSCAN returns every rule present for the whole scan; one added meanwhile may be missed,
      // but it moved the version, which the verifier read before loading: its next pull loads
      // again. Expired rules still in the set are left out by their score.
      const now = Date.now()
      const records: RevocationRecord[] = []
      let invalid = 0
      let cursor = '0'
      do {
        const reply = await driver.command(['ZSCAN', rulesKey, cursor, 'COUNT', LOAD_PAGE])
        const [next, items] = Array.isArray(reply) ? (reply as unknown[]) : []
        if (typeof next !== 'string' || !Array.isArray(items)) {
          throw new StoreUnavailableError('Redis answered ZSCAN oddly')
        }
        for (let i = 0; i + 1 < items.length; i += 2) {
          if (!(Number(items[i + 1]) > now)) continue
          const record = parseRevocation(items[i])
          if (record === undefined) invalid++
          else records.push(record)
        }
        cursor = next
      } while (cursor !== '0')
      if (invalid > 0) {
        logger.error(
          { event: 'revocation_record_invalid', count: invalid },
          'trustgate ignored revocation rules in Redis it cannot read',
        )
      }
      return records
    },

    async version(): Promise<number> {
      const reply = await driver.command(['GET', versionKey])
      return reply === null ? 0 : Number(reply)
    },

    ...(push ? { subscribe } : {}),

    close,
  })
}
