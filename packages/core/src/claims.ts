/**
 * Claim checks of RFC 7519 s4.1 and RFC 8725 s3.8-3.11, on a payload whose signature is already
 * verified. Pure: `now` (seconds) comes in as an argument, like panva/jose:src/lib/jwt_claims_set.ts.
 */
import type { IssuerPolicy } from './issuer-config.js'
import type { InvalidTokenReason } from './reasons.js'
import { isObject, type JsonObject } from './token.js'
import { fail } from './options.js'

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

/**
 * RFC 8725 s3.11 / RFC 7515 s4.1.9: `typ` is compared case-insensitively, and `application/` may be
 * left out.
 */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase()
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower
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
  // RFC 7519 s4.1.3: a string or an array of strings; one of them must be ours. With
  // `audience: null` the issuer's tokens carry no `aud` (Cognito access tokens, Clerk): none is
  // required, and other claims (clientIds, claims) bind the token, as issuer-config.ts insists.
  const { audiences } = rules
  if (typeof aud === 'string') {
    if (audiences !== null && !audiences.has(aud)) return 'audience_mismatch'
  } else if (Array.isArray(aud)) {
    if (!aud.every((value) => typeof value === 'string')) return 'invalid_claim'
    if (audiences !== null && !aud.some((value: string) => audiences.has(value))) {
      return 'audience_mismatch'
    }
  } else if (aud === undefined) {
    if (audiences !== null) return 'audience_mismatch'
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
    for (const member in cnf) {
      // RFC 7800 s3.2-3.5 and others (`jwk`, `jwe`, `kid`, `jku`, ...) bind the token to a key
      // too, by a method STEP 8 cannot verify: accepting such a token as a bearer token would be
      // the downgrade API.md forbids, so it is refused.
      if (member !== 'jkt' && member !== 'x5t#S256') return 'unsupported_confirmation'
      const value = cnf[member]
      if (typeof value !== 'string' || value === '') return 'invalid_claim'
    }
  }
  return undefined
}

/** A value a claim is compared with: JSON's scalars. */
export type ClaimValue = string | number | boolean

/**
 * An issuer-level rule over one claim (API.md "claims"): a value the claim must equal (or, for an
 * array claim, contain), an array of values (any one of them), or a function of the claim's value
 * and the whole verified payload that returns `true` to accept. A function that throws refuses.
 */
export type ClaimRule =
  | ClaimValue
  | readonly ClaimValue[]
  | ((value: unknown, payload: Readonly<Record<string, unknown>>) => boolean)

/** A validated claim rule: the claim's name and its test. */
export type CompiledClaimRule = readonly [
  claim: string,
  test: (value: unknown, payload: JsonObject) => boolean,
]

function isClaimValue(value: unknown): value is ClaimValue {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  )
}

// The claim equals one of the accepted values, or is an array that contains one of them.
function holdsOneOf(accepted: readonly ClaimValue[]): (value: unknown) => boolean {
  return (value) =>
    Array.isArray(value)
      ? value.some((item) => accepted.includes(item as ClaimValue))
      : accepted.includes(value as ClaimValue)
}

/** Validates the `claims` option of an issuer. Throws a TypeError naming the bad rule. */
export function compileClaimRules(value: unknown, field: string): readonly CompiledClaimRule[] {
  if (value === undefined) return []
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(field, 'must be an object of claim rules')
  }
  const rules: CompiledClaimRule[] = []
  for (const [claim, rule] of Object.entries(value)) {
    const at = `${field}.${claim}`
    if (typeof rule === 'function') {
      const test = rule as (value: unknown, payload: JsonObject) => unknown
      rules.push([
        claim,
        (claimValue, payload) => {
          try {
            return test(claimValue, payload) === true
          } catch {
            // A rule that cannot decide refuses: failing open would accept what it meant to stop.
            return false
          }
        },
      ])
    } else if (isClaimValue(rule)) {
      rules.push([claim, holdsOneOf([rule])])
    } else if (Array.isArray(rule) && rule.length > 0 && rule.every(isClaimValue)) {
      rules.push([claim, holdsOneOf(Object.freeze([...rule]))])
    } else {
      fail(at, 'must be a string, number or boolean, a non-empty array of them, or a function')
    }
  }
  return Object.freeze(rules)
}

/** The issuer-level rules of step 7 that bind a token to this API beyond `aud`. */
export interface BindingRules {
  readonly clientIds: ReadonlySet<string> | undefined
  readonly claimRules: readonly CompiledClaimRule[]
}

/**
 * Checks `clientIds`, the tenant of a `{tenantid}` issuer and the `claims` rules, in that order.
 * `tenant` is the `{tenantid}` part of `iss` when the issuer is a template.
 */
export function checkBinding(
  payload: JsonObject,
  rules: BindingRules,
  tenant: string | undefined,
): InvalidTokenReason | undefined {
  if (rules.clientIds !== undefined) {
    // RFC 9068 s2.2: `client_id` names the client; OIDC and many providers use `azp` for it.
    const client = payload.client_id ?? payload.azp
    if (typeof client !== 'string' || !rules.clientIds.has(client)) return 'client_mismatch'
  }
  // The tenant in `iss` picked the trust decision; `tid` says whose token it is. They must agree,
  // or a token of one tenant, replayed under another tenant's issuer spelling, would pass.
  if (tenant !== undefined && payload.tid !== tenant) return 'tenant_mismatch'
  for (const [claim, test] of rules.claimRules) {
    if (!test(payload[claim], payload)) return 'claim_mismatch'
  }
  return undefined
}
