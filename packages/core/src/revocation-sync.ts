/**
 * Keeps a verifier's revocation mirror in step with the shared store: by push (the store's
 * `subscribe`) and by pull on use, a request that finds the last sync older than `syncInterval`
 * starting one in the background; nothing runs on a timer. It says whether the mirror can be
 * trusted now ({@link RevocationSync.fresh}); what a request does when it cannot is the
 * verifier's `onUnavailable` policy (revocation.ts).
 *
 * Intervals are measured on the monotonic clock: a wall clock set back must not make an old
 * mirror look fresh.
 */
import type { Clock } from './clock.js'
import { LogSampler, type Logger } from './log.js'
import type { Mirror } from './revocation-mirror.js'
import { parseRevocation, serializeRevocation, type RevocationRecord } from './revocation-rules.js'
import type { RevocationStore } from './revocation-store.js'
import { isStoreUnavailable } from './store.js'

const NOT_STORED = 'trustgate could not store a revocation: it holds on this instance only'

/** The timing and bound of a sync, validated by `createRevocation`. */
export interface SyncSettings {
  /** Milliseconds between pulls. */
  readonly syncInterval: number
  /** Milliseconds a mirror stays trusted after its last confirmed sync, without live push. */
  readonly maxStaleness: number
  /** Most rules revoked here and waiting for the store. */
  readonly maxRules: number
}

/** One verifier's link between its {@link Mirror} and a {@link RevocationStore}. */
export class RevocationSync {
  readonly #store: RevocationStore
  readonly #mirror: Mirror
  readonly #settings: SyncSettings
  readonly #logger: Logger
  readonly #clock: Clock
  // Rules revoked here that the store has not taken yet: sent again by the next pull.
  readonly #pending = new Map<string, RevocationRecord>()
  readonly #storeSampler = new LogSampler()
  #lastOkAt = Number.NEGATIVE_INFINITY
  #failing = false
  #pulling: Promise<void> | undefined
  #nextPullAt = Number.NEGATIVE_INFINITY
  #pushLive = false
  #pushLiveSince = Number.NEGATIVE_INFINITY
  // The mirror lacks rules it had no room for: it is not trusted until a full load fits.
  #overflow = false
  #reload = true
  #version: number | undefined

  /** Subscribes to the store (when it can push) and starts the first load. */
  constructor(
    store: RevocationStore,
    mirror: Mirror,
    settings: SyncSettings,
    logger: Logger,
    clock: Clock,
  ) {
    this.#store = store
    this.#mirror = mirror
    this.#settings = settings
    this.#logger = logger
    this.#clock = clock
    store.subscribe?.({
      onRule: (item, storeVersion) => {
        const record = parseRevocation(item)
        if (record === undefined) return
        this.remember(record)
        this.#advance(storeVersion)
      },
      onStatus: (live) => {
        this.#pushLive = live
        if (!live) return
        // Rules added while the channel was down were missed: load them now.
        this.#pushLiveSince = clock.monotonic()
        this.#reload = true
        if (this.#pulling === undefined) this.#pull()
      },
    })
    // The first load starts now, so that the first request finds it done or in flight.
    if (this.#pulling === undefined) this.#pull()
  }

  /** The last pull failed. */
  get failing(): boolean {
    return this.#failing
  }

  /** The pull in flight, if any. */
  get pulling(): Promise<void> | undefined {
    return this.#pulling
  }

  /** The mirror had no room for a live rule. */
  get overflow(): boolean {
    return this.#overflow
  }

  /**
   * Trusted: a live subscription that a successful pull followed, or a pull that succeeded within
   * maxStaleness. A failed pull ends the first (the subscription may be half-dead) but not the
   * second: one command timed out by an event-loop stall must not refuse every request at once.
   */
  fresh(mono: number): boolean {
    return (
      !this.#overflow &&
      ((this.#pushLive && !this.#failing && this.#lastOkAt >= this.#pushLiveSince) ||
        mono - this.#lastOkAt <= this.#settings.maxStaleness)
    )
  }

  /** Starts a pull when none is in flight and the last one is `syncInterval` old. */
  pullIfDue(mono: number): void {
    if (this.#pulling === undefined && mono >= this.#nextPullAt) this.#pull()
  }

  /** Adds a record to the mirror; one it has no room for makes it untrusted until a load fits. */
  remember(record: RevocationRecord): void {
    if (!this.#mirror.add(record, this.#clock.now() / 1000)) {
      this.#overflow = true
      this.#reload = true
    }
  }

  /**
   * Puts a rule in force here at once, and in the store for every other instance. `false` when
   * the store did not take it: it is kept, and sent again by the next pull.
   */
  async add(record: RevocationRecord): Promise<boolean> {
    this.remember(record)
    try {
      const added = await this.#store.add(record)
      if (typeof added === 'number') this.#advance(added)
      return true
    } catch (error) {
      if (this.#pending.size < this.#settings.maxRules) {
        this.#pending.set(serializeRevocation(record), record)
      }
      this.#logStore(NOT_STORED, error)
      return false
    }
  }

  // A store version one past ours means no rule was missed in between: no need to load again.
  #advance(storeVersion: number | undefined): void {
    if (
      storeVersion !== undefined &&
      this.#version !== undefined &&
      storeVersion === this.#version + 1
    ) {
      this.#version = storeVersion
    }
  }

  #logStore(message: string, error?: unknown): void {
    const suppressed = this.#storeSampler.take(this.#clock.monotonic())
    if (suppressed === undefined) return
    this.#logger.warn(
      {
        event: 'revocation_store_unavailable',
        error: error instanceof Error ? error.message : undefined,
        suppressed,
      },
      message,
    )
  }

  #pull(): void {
    const store = this.#store
    const clock = this.#clock
    const started = clock.monotonic()
    this.#pulling = (async () => {
      try {
        // Rules revoked here while the store could not take them. One the store still refuses
        // (full, or down) stays pending, and does not stop this pull from reading the others.
        try {
          for (const [text, record] of this.#pending) {
            await store.add(record)
            this.#pending.delete(text)
          }
        } catch (error) {
          this.#logStore(NOT_STORED, error)
        }
        const current = store.version === undefined ? undefined : await store.version()
        if (this.#reload || current === undefined || current !== this.#version) {
          const records = await store.load()
          if (!Array.isArray(records))
            throw new TypeError('the store answered load() without a list')
          this.#mirror.sweep(clock.now() / 1000)
          this.#overflow = false
          let invalid = 0
          for (const item of records) {
            const record = parseRevocation(item)
            if (record === undefined) invalid++
            else this.remember(record)
          }
          // An unreadable rule may be a revocation: it is reported, as a store fault, every time.
          if (invalid > 0) {
            this.#logger.error(
              { event: 'revocation_record_invalid', count: invalid },
              'trustgate ignored revocation records it cannot read',
            )
          }
          this.#reload = this.#overflow
          this.#version = current
        } else {
          this.#mirror.sweep(clock.now() / 1000, false)
        }
        this.#lastOkAt = started
        this.#failing = false
      } catch (error) {
        this.#failing = true
        // A custom store's own bug is a store fault here too, and is logged as one.
        this.#logStore(
          isStoreUnavailable(error)
            ? 'trustgate cannot reach the revocation store'
            : 'trustgate revocation store failed',
          error,
        )
      } finally {
        this.#pulling = undefined
        this.#nextPullAt = clock.monotonic() + this.#settings.syncInterval
      }
    })()
  }
}
