/**
 * Health and readiness of a verifier's key sources, for the people who run the API:
 * `verifier.health()` reads what each configured issuer's key source knows, synchronously and
 * without touching the network; `verifier.ready()` loads every remote issuer's keys (discovery and
 * JWKS) and settles once each one is loaded or has failed, or at a timeout.
 *
 * Liveness must never depend on an IdP: a liveness probe answers from the process alone, and only
 * a readiness probe looks at `health().ready`, so an IdP outage takes instances out of the load
 * balancer at worst, never restarts them (README, "Operating trustgate").
 */
import type { IssuerPolicy } from './issuer-config.js'
import type { KeySourceState } from './key-source.js'

/** Milliseconds `ready()` waits by default. */
export const READY_TIMEOUT_MS = 10_000

/** One configured issuer's keys, as {@link Health} reports them. */
export interface IssuerHealth {
  /** The configured issuer. */
  readonly issuer: string
  /**
   * - `static`: keys configured in the options (`keys`, `publicKey`, `secret`): always loaded;
   * - `fresh`: a fetched key set within `jwks.cacheMaxAge`;
   * - `stale`: the cached set still serves, past its max age or after a failed refresh;
   * - `cooling_down`: no usable set and the last fetch failed: requests get `jwks_unavailable`
   *   without a new fetch until the cooldown ends;
   * - `failing`: no usable set, the last fetch failed, and the next request will try again;
   * - `never_loaded`: nothing fetched yet (the first request, or `ready()`, will).
   */
  readonly state: KeySourceState['state']
  /** Keys the issuer serves now (0 when none can serve). */
  readonly keys: number
  /** When the last successful fetch ended (ISO 8601), or `null`: never, or static keys. */
  readonly lastFetchAt: string | null
  /** Why the last fetch failed, as a fixed description (never a response body), or `null`. */
  readonly lastError: string | null
}

/** What `verifier.health()` returns. */
export interface Health {
  /** True when every configured issuer has keys that can serve (`static`, `fresh`, `stale`). */
  readonly ready: boolean
  readonly issuers: readonly IssuerHealth[]
}

/** Options of `verifier.ready()`. */
export interface ReadyOptions {
  /** Milliseconds to wait for the keys before rejecting. Default 10000. */
  timeout?: number
}

const SERVING: ReadonlySet<string> = new Set(['static', 'fresh', 'stale'])

/** The health of every configured issuer, from what its key source knows. No network. */
export function healthOf(issuers: ReadonlyMap<string, IssuerPolicy>, now: number): Health {
  const list: IssuerHealth[] = []
  let ready = true
  for (const policy of issuers.values()) {
    const state = policy.keys.state(now)
    if (!SERVING.has(state.state)) ready = false
    list.push({
      issuer: policy.issuer,
      state: state.state,
      keys: state.keys,
      lastFetchAt: state.lastFetchAt === null ? null : new Date(state.lastFetchAt).toISOString(),
      lastError: state.lastError,
    })
  }
  return { ready, issuers: list }
}

/**
 * Loads every issuer's keys (a no-op for static keys and for sets already cached), and resolves
 * once all can serve. Rejects with an Error naming the issuers whose keys could not be loaded,
 * as soon as every fetch has settled, or after `timeout` ms for those still pending. The timer is
 * unref'd: a pending `ready()` does not keep the process alive.
 */
export async function loadAll(
  issuers: ReadonlyMap<string, IssuerPolicy>,
  now: number,
  timeout: number,
): Promise<void> {
  const pending = new Set<string>()
  const failed: string[] = []
  const loads = [...issuers.values()].map(async (policy) => {
    pending.add(policy.issuer)
    try {
      await policy.keys.find(undefined, now)
    } catch {
      failed.push(policy.issuer)
    } finally {
      pending.delete(policy.issuer)
    }
  })
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => {
      resolve(true)
    }, timeout)
    timer.unref()
  })
  const settled = Promise.all(loads).then(() => false)
  const late = await Promise.race([settled, timedOut])
  clearTimeout(timer)
  const missing = [...failed, ...(late ? pending : [])]
  if (missing.length > 0) {
    throw new Error(
      `trustgate: the keys of ${missing.map((issuer) => JSON.stringify(issuer)).join(', ')} could not be loaded` +
        (late && pending.size > 0 ? ` within ${String(timeout)} ms` : ''),
    )
  }
}
