/**
 * The revocation store contract: where the rules are shared by every instance, and how a store
 * tells the verifiers that subscribe to it of a new rule. Also the store in process memory, for
 * one process or several verifiers of one process (`@trustgate/redis` shares them between hosts).
 */
import { checkOptionNames, fail, integer } from './options.js'
import { parseRevocation, serializeRevocation, type RevocationRecord } from './revocation-rules.js'
import { StoreUnavailableError, type UnavailablePolicy } from './store.js'
import { isObject } from './token.js'

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

/** Default `maxRules` of a verifier's mirror, and `max` of the memory store. */
export const REVOCATION_MAX_RULES = 100_000

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
  const max = integer(options.max, 'max', REVOCATION_MAX_RULES, 1)
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
