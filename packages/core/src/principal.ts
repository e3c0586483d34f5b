/**
 * The authenticated caller. Subjects are only unique within their issuer (OIDC Core s2), so the
 * identity is the pair <iss, sub>, and `key` encodes that pair injectively.
 */
import { DEFAULT_SCOPE_CLAIMS } from './issuers.js'
import { scopesOf } from './scopes.js'
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

// Escape the escape character, then the separator, then join: `a|b`+`c` and `a`+`b|c` differ
// (compare generateCacheKey in nearform/get-jwks:src/get-jwks.js). Most issuers and subjects hold
// neither character, and are returned as they are after two scans; an Auth0 subject (`auth0|…`)
// holds one separator, and is cut and joined around it. Two `replaceAll` calls cost three times
// as much on every token seen for the first time (0.16 µs against 0.05 µs, issue 15), and a
// regex replace twice that again.
function escapePart(part: string): string {
  const backslash = part.indexOf('\\')
  const bar = part.indexOf('|')
  if (backslash === -1 && bar === -1) return part
  const first = backslash === -1 ? bar : bar === -1 ? backslash : Math.min(backslash, bar)
  let escaped = part.slice(0, first)
  let from = first
  for (let i = first; i < part.length; i++) {
    const code = part.charCodeAt(i)
    // A backslash before each backslash or bar, which is copied with the slice that follows it.
    if (code === 0x5c || code === 0x7c) {
      escaped += `${part.slice(from, i)}\\`
      from = i
    }
  }
  return escaped + part.slice(from)
}

/** The injective key of <iss, sub>. */
export function principalKey(issuer: string, subject: string): string {
  return `${escapePart(issuer)}|${escapePart(subject)}`
}

// Iterative, so that a deeply nested claim cannot exhaust the stack. Only objects and arrays go
// on the stack, and members are read in place (no `Object.values` copy per object): a verified
// payload is mostly strings and numbers, and this runs for every token seen for the first time.
function deepFreeze<T extends object>(root: T): T {
  const stack: object[] = [root]
  for (let value = stack.pop(); value !== undefined; value = stack.pop()) {
    if (Object.isFrozen(value)) continue
    Object.freeze(value)
    if (Array.isArray(value)) {
      for (const item of value as unknown[]) {
        if (typeof item === 'object' && item !== null) stack.push(item)
      }
    } else {
      // Own members only: a JSON.parse result inherits nothing enumerable.
      for (const name in value) {
        const item = (value as Record<string, unknown>)[name]
        if (typeof item === 'object' && item !== null) stack.push(item)
      }
    }
  }
  return root
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
  const { aud } = payload
  const principal = {
    key: principalKey(issuer, subject),
    issuer,
    subject,
    // `aud` is absent only for an issuer configured with `audience: null`. An array of strings
    // (checkClaims made sure) is the frozen claim itself: no copy.
    audience:
      typeof aud === 'string'
        ? Object.freeze([aud])
        : Array.isArray(aud)
          ? (aud as readonly string[])
          : NO_AUDIENCE,
    scopes: scopesOf(payload, scopeClaims),
    claims: deepFreeze(payload),
  }
  Object.defineProperty(principal, 'expiresAt', EXPIRES_AT)
  ;(principal as { confirmation?: Confirmation | undefined }).confirmation =
    payload.cnf === undefined ? undefined : confirmationOf(payload.cnf)
  return Object.freeze(principal) as unknown as Principal
}

const NO_AUDIENCE: readonly string[] = Object.freeze([])

// `expiresAt` is a getter that makes a new Date on each read: a Date cannot be frozen
// (setFullYear writes its internal time slot whatever Object.freeze says), and a cached principal
// is shared between requests, so one request's setFullYear must not reach the next (issue 9,
// item 15). It is an own, enumerable property (spread and JSON.stringify see it), and one getter
// shared by every principal, defined with one descriptor: V8 then gives all principals the same
// hidden class. A getter written in an object literal is a new closure each time, which left every
// principal a dictionary-mode object and cost more than the rest of the principal together.
function readExpiresAt(this: { readonly claims: JsonObject }): Date | undefined {
  const { exp } = this.claims
  return typeof exp === 'number' ? new Date(exp * 1000) : undefined
}
const EXPIRES_AT: PropertyDescriptor = Object.freeze({
  get: readExpiresAt,
  enumerable: true,
  configurable: false,
})
