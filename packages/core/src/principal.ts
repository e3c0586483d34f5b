/**
 * The authenticated caller. Subjects are only unique within their issuer (OIDC Core s2), so the
 * identity is the pair <iss, sub>, and `key` encodes that pair injectively.
 */
import { DEFAULT_SCOPE_CLAIMS } from './issuers.js'
import { isObject, type JsonObject } from './token.js'

/**
 * The token's confirmation (`cnf`, RFC 7800): the proof-of-possession key (`jkt`, RFC 9449 s6.1)
 * or client certificate (`x5t#S256`, RFC 8705 s3.1) it is bound to. A binding is verified on every
 * request before the principal is handed out.
 */
export type Confirmation =
  | { readonly jkt: string; readonly 'x5t#S256'?: string }
  | { readonly 'x5t#S256': string; readonly jkt?: string }

/**
 * The verified caller attached to a request. `Claims` describes the payload the app expects, e.g.
 * `Principal<{ roles: string[] }>`; trustgate does not check that shape (a guard or the issuer's
 * `claims` rules do), so narrow to it with a type guard that looks.
 */
export interface Principal<Claims extends object = Record<string, unknown>> {
  /** Identifies the pair <iss, sub>: different pairs never give the same key. Key your records on it. */
  readonly key: string
  /** `iss`, in the issuer's canonical spelling (the first of its configured spellings). */
  readonly issuer: string
  /** `sub`: unique only within its issuer. */
  readonly subject: string
  /** `aud`, always as an array. */
  readonly audience: readonly string[]
  /**
   * From the issuer's `scopeClaims` (default `scope` and `scp`): a string is space-separated,
   * an array is a list.
   */
  readonly scopes: readonly string[]
  /** The verified payload, deeply frozen. */
  readonly claims: Readonly<Claims>
  /**
   * From `exp`: a new `Date` on each read, so that no request can change what another one sees
   * (a `Date` cannot be frozen). Compare with `getTime()`, not `===`.
   */
  readonly expiresAt: Date | undefined
  /** The token's verified `cnf`, or `undefined` for a bearer token bound to nothing. */
  readonly confirmation: Confirmation | undefined
}

// Escape the separator and the escape character, then join: `a|b`+`c` and `a`+`b|c` differ
// (compare generateCacheKey in nearform/get-jwks:src/get-jwks.js).
function escapePart(part: string): string {
  return part.replace(/[\\|]/g, '\\$&')
}

/** The injective key of <iss, sub>. */
export function principalKey(issuer: string, subject: string): string {
  return `${escapePart(issuer)}|${escapePart(subject)}`
}

// Iterative, so that a deeply nested claim cannot exhaust the stack.
function deepFreeze<T>(root: T): T {
  const stack: unknown[] = [root]
  for (let value = stack.pop(); value !== undefined; value = stack.pop()) {
    if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
      Object.freeze(value)
      stack.push(...(Object.values(value) as unknown[]))
    }
  }
  return root
}

function splitScopes(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    for (const scope of value.split(' ')) if (scope !== '') into.add(scope)
  } else if (Array.isArray(value)) {
    for (const scope of value) if (typeof scope === 'string' && scope !== '') into.add(scope)
  }
}

// `cnf` is checked by checkClaims: an object whose `jkt` and `x5t#S256`, if present, are strings.
function confirmationOf(cnf: unknown): Confirmation | undefined {
  if (!isObject(cnf)) return undefined
  const { jkt } = cnf
  const x5t = cnf['x5t#S256']
  if (typeof jkt === 'string') {
    return Object.freeze(typeof x5t === 'string' ? { jkt, 'x5t#S256': x5t } : { jkt })
  }
  return typeof x5t === 'string' ? Object.freeze({ 'x5t#S256': x5t }) : undefined
}

/**
 * Builds the frozen principal from a verified payload whose `iss`, `sub` and `aud` are checked.
 * `issuer` is the canonical spelling of `iss` (by default `iss` itself); `scopeClaims` name the
 * claims read into `scopes`.
 */
export function createPrincipal(
  payload: JsonObject,
  issuer: string = payload.iss as string,
  scopeClaims: readonly string[] = DEFAULT_SCOPE_CLAIMS,
): Principal {
  const subject = payload.sub as string
  const { aud, exp } = payload
  const expiresAtMs = typeof exp === 'number' ? exp * 1000 : undefined
  const scopes = new Set<string>()
  for (const claim of scopeClaims) splitScopes(payload[claim], scopes)
  return Object.freeze({
    key: principalKey(issuer, subject),
    issuer,
    subject,
    // `aud` is absent only for an issuer configured with `audience: null`.
    audience: Object.freeze(
      typeof aud === 'string' ? [aud] : Array.isArray(aud) ? [...(aud as string[])] : [],
    ),
    scopes: Object.freeze([...scopes]),
    claims: deepFreeze(payload),
    // A getter that makes a new Date on each read: a Date cannot be frozen (setFullYear writes its
    // internal time slot whatever Object.freeze says), and a cached principal is shared between
    // requests, so one request's setFullYear must not reach the next (issue 9, item 15).
    get expiresAt(): Date | undefined {
      return expiresAtMs === undefined ? undefined : new Date(expiresAtMs)
    },
    confirmation: confirmationOf(payload.cnf),
  })
}
