/**
 * Claim checks of RFC 7519 s4.1 and RFC 8725 s3.8-3.11, on a payload whose signature is already
 * verified. Pure: `now` (seconds) comes in as an argument, like panva/jose:src/lib/jwt_claims_set.ts.
 */
import { normalizeTyp, type IssuerPolicy } from './config.js'
import type { InvalidTokenReason } from './errors.js'
import { isObject, type JsonObject } from './token.js'

type ClaimRules = Pick<
  IssuerPolicy,
  'audiences' | 'requireExp' | 'maxTokenAge' | 'typ' | 'clockTolerance'
>

// RFC 7519 s2 NumericDate. A non-finite or absurd number (1e400 parses to Infinity) is malformed,
// and so is one beyond ECMAScript's Date range (8.64e12 s): `expiresAt` must be a valid Date, or
// a signed `exp: 1e308` would give the app an Invalid Date whose toISOString() throws.
const MAX_NUMERIC_DATE = 8.64e12
function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_NUMERIC_DATE
}

/** Checks the `typ` header against the issuer's required one. */
export function checkTyp(
  header: JsonObject,
  rules: Pick<ClaimRules, 'typ'>,
): InvalidTokenReason | undefined {
  if (rules.typ === undefined) return undefined
  const { typ } = header
  return typeof typ === 'string' && normalizeTyp(typ) === rules.typ ? undefined : 'typ_mismatch'
}

/** Returns why the claims are not acceptable, or `undefined` when they are. */
export function checkClaims(
  payload: JsonObject,
  rules: ClaimRules,
  now: number,
): InvalidTokenReason | undefined {
  const { exp, nbf, iat, aud, sub } = payload
  const tolerance = rules.clockTolerance
  if (exp !== undefined && !isNumericDate(exp)) return 'invalid_claim'
  if (nbf !== undefined && !isNumericDate(nbf)) return 'invalid_claim'
  if (iat !== undefined && !isNumericDate(iat)) return 'invalid_claim'
  if (exp === undefined) {
    if (rules.requireExp) return 'missing_exp'
  } else if (exp <= now - tolerance) {
    return 'expired'
  }
  if (nbf !== undefined && nbf > now + tolerance) return 'not_yet_valid'
  if (iat !== undefined && iat > now + tolerance) return 'issued_in_future'
  if (rules.maxTokenAge !== undefined) {
    if (iat === undefined) return 'missing_iat'
    if (now - iat - tolerance > rules.maxTokenAge) return 'token_too_old'
  }
  // RFC 7519 s4.1.3: a string or an array of strings; one of them must be ours.
  if (typeof aud === 'string') {
    if (!rules.audiences.has(aud)) return 'audience_mismatch'
  } else if (Array.isArray(aud)) {
    if (!aud.every((value) => typeof value === 'string')) return 'invalid_claim'
    if (!aud.some((value: string) => rules.audiences.has(value))) return 'audience_mismatch'
  } else if (aud === undefined) {
    return 'audience_mismatch'
  } else {
    return 'invalid_claim'
  }
  if (typeof sub !== 'string' || sub === '') {
    return sub === undefined || sub === '' ? 'missing_subject' : 'invalid_claim'
  }
  // RFC 7800 s3.1: `cnf` is an object. A binding of the wrong type must not read as no binding:
  // that would turn a sender-constrained token into a bearer token.
  const { cnf } = payload
  if (cnf !== undefined) {
    if (!isObject(cnf)) return 'invalid_claim'
    for (const member of ['jkt', 'x5t#S256']) {
      const value = cnf[member]
      if (value !== undefined && (typeof value !== 'string' || value === '')) return 'invalid_claim'
    }
  }
  return undefined
}
