/**
 * A JWK Set as the verifier holds it: the keys that passed import (jwk.ts), indexed by `kid` and by
 * identity, and the parser that turns a fetched or configured document into one. A set is fixed
 * once built; where sets come from, and when they are replaced, is the key sources' concern
 * (key-source.ts, jwks.ts).
 */
import { importJwk, jwkIdentity, type KeyRejection, type VerificationKey } from './jwk.js'
import { FetchError } from './fetch.js'
import { isObject } from './token.js'

/**
 * Most keys a JWK Set may hold. Issuers publish a handful (the current key, the next, the last);
 * a document with more is a failed fetch, refused before any key is imported, so that a 1 MiB set
 * of some 7300 EC keys cannot stall the event loop on every fetch (issue 9, item 8).
 */
export const MAX_JWKS_KEYS = 100

/** A fixed set of verification keys. */
export class KeySet {
  readonly keys: readonly VerificationKey[]
  readonly #byKid = new Map<string, VerificationKey[]>()
  readonly #byId = new Map<string, VerificationKey>()

  constructor(keys: readonly VerificationKey[]) {
    this.keys = keys
    for (const key of keys) {
      this.#byId.set(key.id, key)
      if (key.kid === undefined) continue
      const list = this.#byKid.get(key.kid)
      if (list === undefined) this.#byKid.set(key.kid, [key])
      else list.push(key)
    }
  }

  /** The keys a token may name: those with its `kid`, or, with no `kid`, all of them. */
  match(kid: string | undefined): readonly VerificationKey[] {
    if (kid === undefined) return this.keys
    return this.#byKid.get(kid) ?? []
  }

  /** The key of this set with that {@link VerificationKey.id}, if any. */
  byId(id: string): VerificationKey | undefined {
    return this.#byId.get(id)
  }

  /** True if both sets hold the same key material under the same parameters. */
  sameAs(other: KeySet): boolean {
    return this.#byId.size === other.#byId.size && this.#countIn(other) === this.#byId.size
  }

  /** How many keys of this set `other` holds too. */
  #countIn(other: KeySet): number {
    let count = 0
    for (const id of this.#byId.keys()) if (other.#byId.has(id)) count++
    return count
  }

  /** The keys of `previous` this set adds and drops, as counts: a log line stays small. */
  changesFrom(previous: KeySet | undefined): { added: number; removed: number } {
    if (previous === undefined) return { added: this.#byId.size, removed: 0 }
    const kept = previous.#countIn(this)
    return { added: this.#byId.size - kept, removed: previous.#byId.size - kept }
  }
}

/** The result of parsing a JWK Set document. */
export interface ParsedKeySet {
  readonly set: KeySet
  readonly skipped: ReadonlyMap<KeyRejection, number>
}

/**
 * Parses a JWK Set (RFC 7517 s5). Throws {@link FetchError} for a document that is not one or
 * holds more than {@link MAX_JWKS_KEYS} keys; skips, and counts, the keys that cannot verify
 * signatures. A key that `previous` already holds, with the same identity, is taken from it rather
 * than imported again: a refresh of an unchanged set imports nothing, and the verified-token
 * cache keeps its entries for keys that stayed.
 */
export function parseJwks(document: unknown, previous?: KeySet): ParsedKeySet {
  if (!isObject(document) || !Array.isArray(document.keys)) {
    throw new FetchError('response is not a JWK Set')
  }
  const list = document.keys as unknown[]
  if (list.length > MAX_JWKS_KEYS) {
    throw new FetchError(`JWK Set has more than ${String(MAX_JWKS_KEYS)} keys`)
  }
  const keys: VerificationKey[] = []
  const skipped = new Map<KeyRejection, number>()
  for (const jwk of list) {
    const known = isObject(jwk) ? previous?.byId(jwkIdentity(jwk)) : undefined
    const key = known ?? importJwk(jwk)
    if (typeof key === 'string') skipped.set(key, (skipped.get(key) ?? 0) + 1)
    else keys.push(key)
  }
  return { set: new KeySet(keys), skipped }
}
