/**
 * The checks of a request rather than of its token, chained: the sender constraint (STEP 8:
 * mtls.ts, dpop.ts), then revocation (STEP 9: revocation.ts). They run on every request, a
 * verified-token cache hit included, since a cached principal says nothing about the request.
 * verifier.ts says when they run; this module says how they chain, with a promise only where a
 * store must be awaited, and what the synchronous path of `authenticateCached` may answer.
 *
 * A verifier without DPoP, without a required client certificate and without revocation has
 * nothing to check for a token that carries no `cnf`: both bindings are absent and no rule can
 * refuse it. Such a request costs one test, not a clock read or a call per check.
 */
import type { Clock } from './clock.js'
import type { Dpop } from './dpop.js'
import { refuseKeyBinding } from './dpop.js'
import type { ErrorFactory } from './errors.js'
import type { RequestContext } from './log.js'
import { checkCertificateBinding, type MtlsPolicy } from './mtls.js'
import type { Principal } from './principal.js'
import type { Revocation } from './revocation.js'

/** How the token came: `Authorization: Bearer` (or a `getToken` option), or `DPoP` (RFC 9449). */
export type Scheme = 'bearer' | 'dpop'

/** The per-request checks of one verifier. */
export interface RequestChecks {
  /**
   * STEP 8, then STEP 9: the principal, or a promise of it when a store must be awaited. Throws
   * (or rejects with) the `AuthError` of a refused request. `bound`: the token carries `cnf`.
   */
  admit(
    principal: Principal,
    bound: boolean,
    token: string,
    scheme: Scheme,
    context: RequestContext | undefined,
    nowMs: number,
  ): Principal | Promise<Principal>
  /**
   * The same checks without a promise, for `authenticateCached`: the principal, or `undefined`
   * when they cannot answer now and the request must go through `authenticate()`. Throws the
   * `AuthError` of a refused request.
   */
  admitNow(
    principal: Principal,
    bound: boolean,
    token: string,
    scheme: Scheme,
    context: RequestContext | undefined,
    nowMs: number,
  ): Principal | undefined
  /** False when a request of `scheme` needs a promise whatever its token: an asynchronous DPoP replay store. */
  synchronous(scheme: Scheme): boolean
}

/** What the checks need: the options that configure them, and the verifier's errors and clock. */
export interface RequestCheckConfig {
  readonly mtls: MtlsPolicy | undefined
  readonly dpop: Dpop | undefined
  readonly revocation: Revocation | undefined
  readonly errors: ErrorFactory
  readonly clock: Clock
}

/** Builds the per-request checks of one verifier. */
export function createRequestChecks(config: RequestCheckConfig): RequestChecks {
  const { mtls, dpop, revocation, errors, clock } = config
  // Nothing of STEP 8 can refuse a token without `cnf` unless one of these is configured.
  const constrainsUnbound = dpop !== undefined || mtls?.required === true

  /**
   * The sender constraint. A token bound by `cnf` is refused unless its binding holds for this
   * request, whatever the options (no downgrade to bearer): the certificate (mtls.ts), the DPoP
   * proof (dpop.ts). A promise only when the DPoP replay store is asynchronous.
   */
  function constrain(
    principal: Principal,
    token: string,
    scheme: Scheme,
    context: RequestContext | undefined,
    nowMs: number,
  ): Principal | Promise<Principal> {
    checkCertificateBinding(principal, mtls, context, errors)
    if (dpop === undefined) {
      refuseKeyBinding(principal, errors)
      return principal
    }
    const proven = dpop.check(principal, token, scheme, context, nowMs)
    return proven === undefined ? principal : proven.then(() => principal)
  }

  /** Revocation, against the local mirror of the shared rules. */
  function revoked(principal: Principal, nowMs: number): Principal | Promise<Principal> {
    return revocation === undefined
      ? principal
      : revocation.admit(principal, nowMs, clock.monotonic())
  }

  return Object.freeze({
    admit(principal, bound, token, scheme, context, nowMs) {
      if (!bound && !constrainsUnbound) return revoked(principal, nowMs)
      const constrained = constrain(principal, token, scheme, context, nowMs)
      return constrained instanceof Promise
        ? constrained.then((checked) => revoked(checked, nowMs))
        : revoked(constrained, nowMs)
    },
    admitNow(principal, bound, token, scheme, context, nowMs) {
      if (!bound && !constrainsUnbound && revocation === undefined) return principal
      // Revocation must be able to answer now, or the request goes through authenticate():
      // asked before the sender constraint, whose DPoP claim a second pass would find taken.
      const monoMs = revocation === undefined ? 0 : clock.monotonic()
      if (revocation !== undefined && !revocation.ready(monoMs)) return undefined
      const constrained = constrain(principal, token, scheme, context, nowMs)
      // Never a promise here: synchronous() held, so the replay store is the memory one. Were
      // it one, the proof's jti would be claimed already, and authenticate() would refuse it.
      if (constrained instanceof Promise) {
        constrained.catch(() => undefined)
        return undefined
      }
      return revocation === undefined
        ? constrained
        : revocation.admitCached(constrained, nowMs, monoMs)
    },
    synchronous: (scheme) => scheme !== 'dpop' || dpop?.synchronous === true,
  } satisfies RequestChecks)
}
