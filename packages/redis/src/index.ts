/**
 * `createRedisStore`: the replay store (DPoP proof `jti`s, replay.ts) and the revocation store
 * (revocation.ts) of trustgate over one Redis that every instance of an API shares, driven through
 * the application's node-redis or ioredis client (client.ts). This module validates the options
 * and puts the two together.
 *
 * Every command is refused at once while the client is disconnected and abandoned after
 * `commandTimeout`: an outage costs a request a bounded wait, never a queue.
 */
import {
  checkOptionNames,
  configError,
  integerOption as integer,
  type Logger,
  type ReplayStore,
  type RevocationStore,
  type UnavailablePolicy,
} from '@trustgate/core'
import { pino } from 'pino'
import { createDriver, type RedisClient } from './client.js'
import { createClaim } from './replay.js'
import { createRevocationStore } from './revocation.js'

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
  const driver = createDriver(options.client, commandTimeout)
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

  const { subscribe, ...revocation } = createRevocationStore(driver, { prefix, maxRules, logger })
  return Object.freeze({
    client: driver.kind,
    onUnavailable: policy,
    claim: createClaim(driver, { prefix, policy, maxFallbackKeys, logger }),
    ...revocation,
    ...(push ? { subscribe } : {}),
  })
}
