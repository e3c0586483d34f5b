/**
 * DPoP (RFC 9449), STEP 8 for the `jkt` binding: a token bound to a client key (`cnf.jkt`) is
 * accepted only with a proof, signed by that key, for this very request (dpop-proof.ts), and never
 * as a plain bearer token. The options are in dpop-options.ts, the proof key in dpop-key.ts, the
 * server nonces in dpop-nonce.ts, the URL a proof names in htu.ts.
 */
import type { DpopAlgorithm, DpopConfig } from './dpop-options.js'
import { createProofCheck } from './dpop-proof.js'
import type { ErrorFactory } from './errors.js'
import type { RequestContext } from './log.js'
import type { Principal } from './principal.js'
import { headerValues } from './raw-headers.js'
import { isSynchronousStore } from './replay.js'
import { isObject } from './token.js'

/** Validated DPoP options, bound to one verifier's errors. */
export interface Dpop {
  readonly required: boolean
  readonly algorithms: readonly DpopAlgorithm[]
  /** The replay store answers at once: a request needs no promise for its claim. */
  readonly synchronous: boolean
  /**
   * STEP 8 for the `jkt` binding, on every request, cached tokens included. Throws an
   * `AuthError`; returns a promise only when the replay store is asynchronous.
   */
  check(
    principal: Principal,
    token: string,
    scheme: 'bearer' | 'dpop',
    context: RequestContext | undefined,
    nowMs: number,
  ): void | Promise<void>
}

/** The values of every `DPoP` header in Node's `rawHeaders` list (a second one must be seen). */
export function dpopValues(rawHeaders: readonly string[]): string[] {
  return headerValues(rawHeaders, 'dpop')
}

/**
 * Builds the DPoP checks of one verifier. `clockTolerance` is the verifier's, in seconds; `errors`
 * offer the DPoP challenge.
 */
export function createDpop(config: DpopConfig, clockTolerance: number, errors: ErrorFactory): Dpop {
  const { required, algorithms, replayStore } = config
  const checkProof = createProofCheck(config, clockTolerance, errors)
  return Object.freeze({
    required,
    algorithms,
    synchronous: isSynchronousStore(replayStore),
    check(principal, token, scheme, context, nowMs) {
      const jkt = boundKey(principal, errors)
      if (scheme === 'dpop') {
        // RFC 9449 s7.1: the DPoP scheme is for DPoP-bound tokens.
        if (jkt === undefined) throw errors.invalidToken('not_dpop_bound')
        return checkProof(token, jkt, context, nowMs)
      }
      // No downgrade: a bound token sent as a bearer token proves nothing.
      if (jkt !== undefined) throw errors.invalidToken('dpop_bound_token')
      if (required) throw errors.invalidToken('dpop_required')
      return undefined
    },
  } satisfies Dpop)
}

/**
 * The key a token is bound to (`cnf.jkt`), or `undefined`. A `cnf` that is not an object, or a
 * `jkt` that is not a string, is a malformed claim, never "no binding".
 */
function boundKey(principal: Principal, errors: ErrorFactory): string | undefined {
  const { cnf } = principal.claims
  if (cnf === undefined) return undefined
  if (!isObject(cnf) || (cnf.jkt !== undefined && typeof cnf.jkt !== 'string')) {
    throw errors.invalidToken('invalid_claim')
  }
  return cnf.jkt
}

/**
 * STEP 8 for the `jkt` binding in a verifier without DPoP: a token bound to a key is refused all
 * the same, since no proof can be checked (no downgrade to a bearer token, RFC 9449 s7.1).
 */
export function refuseKeyBinding(principal: Principal, errors: ErrorFactory): void {
  if (boundKey(principal, errors) !== undefined) throw errors.invalidToken('dpop_bound_token')
}
