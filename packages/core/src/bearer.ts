/**
 * RFC 6750 s2.1: `Authorization: Bearer <b64token>`. The scheme is case-insensitive (RFC 9110
 * s11.1); exactly one space separates it from exactly one token.
 */
import type { ErrorFactory } from './errors.js'
import { headerValues } from './raw-headers.js'

// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/** True for a token of the b64token syntax of RFC 6750 s2.1 (token68 of RFC 9110 s11.2). */
export function isB64token(token: string): boolean {
  return B64TOKEN.test(token)
}

/**
 * The values of every `Authorization` header in Node's `rawHeaders` list. Node keeps only the
 * first of two such headers in `req.headers`, which would hide a smuggled second one.
 */
export function authorizationValues(rawHeaders: readonly string[]): string[] {
  return headerValues(rawHeaders, 'authorization')
}

/** The token of an Authorization header, with the scheme it came with. */
export interface Credentials {
  /** `bearer` (RFC 6750) or `dpop` (RFC 9449 s7.1), lower-cased. */
  readonly scheme: 'bearer' | 'dpop'
  readonly token: string
}

/**
 * Takes the token from the Authorization header values of one request: a `Bearer` token, and, with
 * `dpop`, a `DPoP` one (RFC 9449 s7.1, the same token68 syntax). Returns `null` when there is no
 * such token (no header, or another scheme such as `Basic`); throws `invalid_request` for several
 * headers, an empty or spaced token. With `checkToken: false` the token's syntax is left to the
 * caller ({@link isB64token}), which must refuse it with `invalid_request` just the same.
 */
export function parseCredentials(
  values: string | readonly string[] | undefined,
  errors: ErrorFactory,
  dpop = false,
  checkToken = true,
): Credentials | null {
  let value: string | undefined
  if (typeof values === 'string') value = values
  else if (values !== undefined) {
    if (values.length > 1) throw errors.invalidRequest('multiple_authorization_headers')
    value = values[0]
  }
  if (value === undefined) return null
  // Node already strips leading and trailing whitespace of a field value (RFC 9110 s5.5).
  value = value.trim()
  // The scheme ends at the first space or tab, so `Bearer<TAB>token` is a malformed bearer
  // header, not another scheme.
  const end = value.search(/[ \t]/)
  const scheme = end === -1 ? value : value.slice(0, end)
  if (scheme.length === 0) throw errors.invalidRequest('malformed_authorization_header')
  const lower = scheme.toLowerCase()
  if (lower !== 'bearer' && !(dpop && lower === 'dpop')) return null
  const token = end === -1 || value[end] !== ' ' ? '' : value.slice(end + 1)
  if (checkToken && !B64TOKEN.test(token)) {
    throw errors.invalidRequest('malformed_authorization_header')
  }
  return { scheme: lower, token }
}

/**
 * Takes the bearer token from the Authorization header values of one request.
 * Returns `null` when there is no bearer token (no header, or another scheme such as `Basic`);
 * throws `invalid_request` for several headers, an empty or spaced token.
 */
export function parseBearer(
  values: string | readonly string[] | undefined,
  errors: ErrorFactory,
): string | null {
  return parseCredentials(values, errors)?.token ?? null
}
