/**
 * The revocation store over Redis. Rules live in one sorted set scored by the time they may be
 * forgotten (so Redis drops expired rules), with a version counter; a Lua script adds a rule,
 * bumps the version and publishes the rule in one step, so every subscribed verifier hears of it
 * within a round trip, and one that missed a message sees the version move at its next pull.
 */
import {
  parseRevocation,
  serializeRevocation,
  StoreUnavailableError,
  type Logger,
  type RevocationListener,
  type RevocationRecord,
} from '@trustgate/core'
import type { Driver, Subscription } from './client.js'

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

/** What {@link createRevocationStore} needs of the validated options. */
export interface RevocationSettings {
  readonly prefix: string
  /** Most rules kept in Redis. */
  readonly maxRules: number
  readonly logger: Logger
}

/** The revocation half of a `RedisStore`: closures, so that they can be spread into it. */
export interface RedisRevocationStore {
  readonly add: (record: RevocationRecord) => Promise<number>
  readonly load: () => Promise<RevocationRecord[]>
  readonly version: () => Promise<number>
  readonly subscribe: (listener: RevocationListener) => () => void
  /** Ends the pub/sub connection. Also done when the application's client ends. */
  readonly close: () => Promise<void>
}

/** The revocation store over a driver. */
export function createRevocationStore(
  driver: Driver,
  { prefix, maxRules, logger }: RevocationSettings,
): RedisRevocationStore {
  // Redis Cluster: both keys carry one hash tag, so the script touches one slot.
  const rulesKey = `${prefix}{revocation}:rules`
  const versionKey = `${prefix}{revocation}:version`
  const channel = `${prefix}revocation`

  // One pub/sub connection for every verifier that subscribes (several plugin registrations
  // share it), opened with the first and closed with the last.
  const listeners = new Set<RevocationListener>()
  let subscription: Subscription | undefined
  let live = false

  function onMessage(message: string): void {
    // `<version> <rule>`, as the add script publishes it.
    const space = message.indexOf(' ')
    const version = Number(message.slice(0, space))
    const record = parseRevocation(message.slice(space + 1))
    if (record === undefined) return
    for (const each of listeners) {
      each.onRule(record, Number.isSafeInteger(version) ? version : undefined)
    }
  }

  function onStatus(up: boolean): void {
    live = up
    for (const each of listeners) each.onStatus(up)
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

  return {
    async add(record) {
      const version = await driver.command([
        'EVAL',
        ADD_SCRIPT,
        '2',
        rulesKey,
        versionKey,
        serializeRevocation(record),
        String(Math.ceil(record.until * 1000)),
        String(Date.now()),
        String(maxRules),
        channel,
      ])
      return Number(version)
    },

    async load() {
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

    async version() {
      const reply = await driver.command(['GET', versionKey])
      return reply === null ? 0 : Number(reply)
    },

    subscribe(listener) {
      listeners.add(listener)
      if (subscription === undefined) {
        subscription = driver.subscribe(channel, onMessage, onStatus)
      } else if (live) {
        listener.onStatus(true)
      }
      return () => {
        listeners.delete(listener)
        if (listeners.size === 0) void close()
      }
    },

    close,
  }
}
