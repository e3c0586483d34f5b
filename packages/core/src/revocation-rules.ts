/**
 * Revocation rules (API.md, "State shared by many instances"): the three rules `verifier.revoke`
 * takes, the record every store keeps and exchanges, and the checks between them. A store is
 * shared with other processes, so a record read from it is checked as carefully as a rule given
 * to `revoke()`; and every record carries `until`, after which no token it could match can be
 * valid, so that stores and mirrors stay bounded by forgetting it.
 */
import { fail } from './options.js'
import { isObject } from './token.js'

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

/** Longest `issuer`, `principal` or `jti` of a rule, in characters. */
export const MAX_RULE_FIELD_LENGTH = 2048

// A `before` more than this far ahead of the clock would refuse tokens not issued yet: a ban, not
// a revocation. Seconds.
const MAX_FUTURE_BEFORE_S = 60
// Seconds since the epoch above this are milliseconds by mistake (the year 5138).
const MAX_SECONDS = 1e11

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
export interface Lifetimes {
  /** `maxTokenLifetime`, seconds. */
  readonly lifetime: number
  /** The largest clock tolerance of any issuer, seconds. */
  readonly tolerance: number
}

/** Checks a rule given to `revoke()` and turns it into a record. Throws a TypeError naming the field. */
export function toRecord(
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
