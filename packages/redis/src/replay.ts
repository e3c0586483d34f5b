/**
 * The replay store over Redis: DPoP proof `jti`s claimed by every instance at once.
 *
 * A claim is one atomic `SET key 1 NX PX ttl`, never a read then a write: of any number of
 * instances claiming the same key at once, exactly one wins. The key is the prefix and the SHA-256
 * of the claimed value, so no token, `jti` or client key ever appears in a Redis key. While Redis
 * cannot answer, `onUnavailable` decides: refuse, claim in a bounded memory store of this process,
 * or accept; every outage is logged, one line per window with the count of those suppressed.
 */
import { createHash } from 'node:crypto'
import { createMemoryReplayStore, type Logger, type UnavailablePolicy } from '@trustgate/core'
import type { Driver } from './client.js'

const LOG_WINDOW_MS = 5000

/** What {@link createClaim} needs of the validated options. */
export interface ReplaySettings {
  readonly prefix: string
  readonly policy: UnavailablePolicy
  /** Most keys of the `fallback` memory replay store. */
  readonly maxFallbackKeys: number
  readonly logger: Logger
}

/** `ReplayStore.claim` over Redis. */
export function createClaim(
  driver: Driver,
  { prefix, policy, maxFallbackKeys, logger }: ReplaySettings,
): (key: string, ttlMs: number) => Promise<boolean> {
  const fallback =
    policy === 'fallback' ? createMemoryReplayStore({ max: maxFallbackKeys }) : undefined
  let windowStart = Number.NEGATIVE_INFINITY
  let suppressed = 0

  function logOutage(error: unknown): void {
    const now = performance.now()
    if (now - windowStart < LOG_WINDOW_MS) {
      suppressed++
      return
    }
    windowStart = now
    logger.warn(
      {
        event: 'replay_store_unavailable',
        onUnavailable: policy,
        error: error instanceof Error ? error.message : undefined,
        suppressed,
      },
      'trustgate cannot reach Redis',
    )
    suppressed = 0
  }

  return async function claim(key: string, ttlMs: number): Promise<boolean> {
    if (typeof key !== 'string' || key === '') throw new TypeError('key must be a non-empty string')
    if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new TypeError('ttlMs must be a number > 0')
    }
    // Hashed: the claimed value (a proof jti with its client's key) never becomes a Redis key.
    const hashed = `${prefix}replay:${createHash('sha256').update(key).digest('base64url')}`
    try {
      const reply = await driver.command(['SET', hashed, '1', 'NX', 'PX', String(Math.ceil(ttlMs))])
      return reply === 'OK'
    } catch (error) {
      logOutage(error)
      if (fallback !== undefined) return fallback.claim(key, ttlMs)
      if (policy === 'accept') return true
      throw error
    }
  }
}
