/**
 * `principal.scopes`: the scopes a verified payload grants, read from the issuer's `scopeClaims`
 * (a string is space-separated, an array is a list), in order of first appearance, without
 * duplicates, frozen.
 */
import { BoundedMap } from './bounded-map.js'
import type { JsonObject } from './token.js'

// Scopes in order of first appearance, without duplicates. A token has a handful: a scan of the
// list beats a Set, up to SCOPE_SCAN_MAX; past it (a 16 KB token can carry thousands), a Set
// keeps the cost linear.
const SCOPE_SCAN_MAX = 32
function addScope(
  scope: string,
  into: string[],
  seen: Set<string> | undefined,
): Set<string> | undefined {
  if (seen !== undefined) {
    if (!seen.has(scope)) {
      seen.add(scope)
      into.push(scope)
    }
    return seen
  }
  if (into.includes(scope)) return undefined
  into.push(scope)
  return into.length > SCOPE_SCAN_MAX ? new Set(into) : undefined
}

/** The frozen scopes of `payload`, from the claims named in `scopeClaims`. */
export function scopesOf(payload: JsonObject, scopeClaims: readonly string[]): readonly string[] {
  let scopes: string[] = []
  let seen: Set<string> | undefined
  // The list of the one scope claim read so far, when it is a string that is already a list.
  let only: readonly string[] | undefined
  for (const claim of scopeClaims) {
    const value = payload[claim]
    if (value === undefined) continue
    if (only !== undefined) {
      // A second scope claim: the lists are merged into a list of our own.
      scopes = [...only]
      only = undefined
    }
    if (typeof value === 'string') {
      // The usual token: one space-separated `scope` string of distinct scopes, and nothing in
      // the other scope claims. Its split is the list.
      if (scopes.length === 0) {
        only = scopeList(value)
        if (only !== undefined) continue
      }
      for (const scope of value.split(' ')) if (scope !== '') seen = addScope(scope, scopes, seen)
    } else if (Array.isArray(value)) {
      for (const scope of value) {
        if (typeof scope === 'string' && scope !== '') seen = addScope(scope, scopes, seen)
      }
    }
  }
  return only ?? (scopes.length === 0 ? NO_SCOPES : Object.freeze(scopes))
}

/** Most scope strings whose lists are kept, and the longest one kept, in characters. */
export const SCOPE_LISTS_MAX = 64
export const SCOPE_LIST_MAX_CHARS = 1024

// The frozen lists of scope strings of verified tokens: the tokens of one client carry the same
// `scope` string, and its split cost a fifth of the principal (0.23 µs of 1.1 µs for the bench's
// realistic token, issue 15). Bounded in entries and length, the oldest making room; filled only
// by tokens that passed every check of their own (a principal exists only then), so a forger
// cannot fill it. A scope string is no credential, and its key is the claim's own string, made
// by JSON.parse: nothing of the token is kept.
const SCOPE_LISTS = new BoundedMap<string, readonly string[]>(SCOPE_LISTS_MAX)

// The list of a scope string, or `undefined` when it is not a short list of distinct scopes.
function scopeList(value: string): readonly string[] | undefined {
  const known = SCOPE_LISTS.get(value)
  if (known !== undefined) return known
  const parts = value.split(' ')
  if (!isScopeList(parts)) return undefined
  const list = Object.freeze(parts)
  if (value.length <= SCOPE_LIST_MAX_CHARS) SCOPE_LISTS.add(value, list)
  return list
}

// True for a short list of distinct, non-empty scopes.
function isScopeList(parts: readonly string[]): boolean {
  if (parts.length > SCOPE_SCAN_MAX) return false
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string
    if (part === '' || parts.indexOf(part) !== i) return false
  }
  return true
}

const NO_SCOPES: readonly string[] = Object.freeze([])
