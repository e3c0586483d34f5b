/**
 * What every outcome of a verification leaves behind, once verifier.ts has decided it: a refusal
 * goes on the scheme the client used (RFC 9449 s7.1) and leaves a sampled debug line
 * (rejections.ts); any outcome, when someone listens, a diagnostics-channel message and metrics
 * (observe.ts). Without a subscriber or metrics, no trace and no message is built.
 */
import type { ErrorFactory } from './errors.js'
import type { RequestContext } from './log.js'
import type { Observer, Trace } from './observe.js'
import type { Principal } from './principal.js'
import type { RejectionLog } from './rejections.js'
import type { Scheme } from './request-checks.js'

/** The publication of one verifier's outcomes. */
export interface Outcomes {
  /** The answer to give for `error`, logged and published: throw or reject with it. */
  refusal(
    error: unknown,
    scheme: Scheme,
    context: RequestContext | undefined,
    trace: Trace | undefined,
  ): unknown
  /** Publishes the outcome of steps 2-9, at once or when the promise settles. */
  settled(
    outcome: Principal | Promise<Principal>,
    scheme: Scheme,
    context: RequestContext | undefined,
    trace: Trace | undefined,
  ): Principal | Promise<Principal>
}

/** Builds the publication of one verifier's outcomes. */
export function createOutcomes(
  errors: ErrorFactory,
  logRejection: RejectionLog,
  observer: Observer,
): Outcomes {
  function refusal(
    error: unknown,
    scheme: Scheme,
    context: RequestContext | undefined,
    trace: Trace | undefined,
  ): unknown {
    const answer = scheme === 'dpop' ? errors.onDpopScheme(error) : error
    logRejection(answer, context)
    if (trace !== undefined) observer.settle(trace, true, answer)
    return answer
  }

  return Object.freeze({
    refusal,
    settled(outcome, scheme, context, trace) {
      if (!(outcome instanceof Promise)) {
        if (trace !== undefined) observer.settle(trace, false)
        return outcome
      }
      return outcome.then(
        (principal) => {
          if (trace !== undefined) observer.settle(trace, false)
          return principal
        },
        (error: unknown) => {
          throw refusal(error, scheme, context, trace)
        },
      )
    },
  } satisfies Outcomes)
}
