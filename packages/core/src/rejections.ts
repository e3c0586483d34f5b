/**
 * Debuggable rejections: every refused token leaves a `debug` line with its `code` and `reason`
 * (sampled, never the token), and an untrusted `iss` that is one typo away from a configured
 * issuer says so in its `warn` line. Trust is still by exact match (API.md step 3): the hint only
 * explains a refusal, it never changes one.
 */
import { isAuthError } from './auth-error.js'
import {
  LogSampler,
  MAX_LOGGED_ISS,
  MAX_LOGGED_PARAM,
  sanitize,
  type Logger,
  type RequestContext,
} from './log.js'
import type { JsonObject } from './token.js'

/** Debug lines written per sampling window; the rest are counted as `suppressed`. */
export const REJECTION_LOG_LINES = 10

/** Writes the sampled `debug` line of a rejection. */
export type RejectionLog = (error: unknown, context: RequestContext | undefined) => void

/**
 * Creates the rejection log of one verifier. With a logger that has no `debug` method, or whose
 * `debug` level is off (pino's `isLevelEnabled`), a rejection costs one call and no sampling.
 */
export function createRejectionLog(logger: Logger, now: () => number): RejectionLog {
  const sampler = new LogSampler(REJECTION_LOG_LINES)
  if (typeof logger.debug !== 'function') return () => undefined
  const enabled = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled
  return (error, context) => {
    if (!isAuthError(error)) return
    if (typeof enabled === 'function' && !enabled.call(logger, 'debug')) return
    const suppressed = sampler.take(now())
    if (suppressed === undefined) return
    logger.debug?.(
      {
        event: 'token_rejected',
        code: error.code,
        reason: error.reason,
        status: error.status,
        reqId: context?.reqId,
        remoteAddress: context?.remoteAddress,
        suppressed,
      },
      'trustgate rejected a request',
    )
  }
}

interface Parts {
  readonly scheme: string
  readonly port: string
  readonly rest: string
  readonly slash: boolean
}

// scheme://host[:port]/path, loosely: any string is accepted, the parts may be empty.
const SHAPE = /^(?:([A-Za-z][A-Za-z0-9+.-]*):\/\/)?([^/:?#]*)(?::(\d*))?(.*)$/s

function partsOf(value: string): Parts {
  const [, scheme = '', host = '', port = '', path = ''] = SHAPE.exec(value) ?? []
  const trimmed = path.replace(/\/+$/, '')
  return { scheme, port, rest: host + trimmed, slash: trimmed !== path }
}

/** The configured issuers in the form {@link issuerHint} compares, computed once. */
export type IssuerSpellings = ReadonlyMap<string, readonly [string, Parts][]>

/** Indexes the configured issuer strings by their loose form (host and path, in lower case). */
export function indexIssuers(issuers: Iterable<string>): IssuerSpellings {
  const index = new Map<string, [string, Parts][]>()
  for (const issuer of issuers) {
    const parts = partsOf(issuer)
    const loose = parts.rest.toLowerCase()
    index.set(loose, [...(index.get(loose) ?? []), [issuer, parts]])
  }
  return index
}

/**
 * When `iss` differs from a configured issuer only by a trailing slash, the scheme, the case or
 * the port, says which: `differs from the configured issuer https://a.example only by a trailing
 * slash`. `undefined` otherwise. Called only for a line that is written (the sampled path), on an
 * `iss` already cut to the logged length.
 */
export function issuerHint(iss: unknown, index: IssuerSpellings): string | undefined {
  if (typeof iss !== 'string') return undefined
  const parts = partsOf(iss)
  for (const [issuer, known] of index.get(parts.rest.toLowerCase()) ?? []) {
    const differences: string[] = []
    if (parts.slash !== known.slash) differences.push('a trailing slash')
    if (parts.scheme.toLowerCase() !== known.scheme.toLowerCase()) differences.push('the scheme')
    if (parts.port !== known.port) differences.push('the port')
    const schemeCase =
      parts.scheme !== known.scheme && parts.scheme.toLowerCase() === known.scheme.toLowerCase()
    if (parts.rest !== known.rest || schemeCase) differences.push('the case')
    if (differences.length === 0) continue
    return (
      `iss differs from the configured issuer ${issuer} only by ${differences.join(' and ')}; ` +
      'issuers match exactly: configure the spelling the tokens carry'
    )
  }
  return undefined
}

/** Writes the sampled `warn` line of a token from an untrusted issuer; `now` is monotonic ms. */
export type UntrustedIssuerLog = (
  header: JsonObject,
  iss: unknown,
  now: number,
  context: RequestContext | undefined,
) => void

/**
 * Creates the untrusted-issuer log of one verifier, with the hint of {@link issuerHint} against
 * the configured spellings. Values from the token are cut to the logged length, never whole.
 */
export function createUntrustedIssuerLog(
  logger: Logger,
  spellings: Iterable<string>,
): UntrustedIssuerLog {
  const sampler = new LogSampler()
  const index = indexIssuers(spellings)
  return (header, iss, now, context) => {
    const suppressed = sampler.take(now)
    if (suppressed === undefined) return
    logger.warn(
      {
        event: 'untrusted_issuer',
        iss: sanitize(iss, MAX_LOGGED_ISS),
        kid: sanitize(header.kid, MAX_LOGGED_PARAM),
        alg: sanitize(header.alg, MAX_LOGGED_PARAM),
        reqId: context?.reqId,
        remoteAddress: context?.remoteAddress,
        suppressed,
        // Only on a line that is written: a near miss of a configured issuer, said as such.
        hint: issuerHint(sanitize(iss, MAX_LOGGED_ISS), index),
      },
      'trustgate rejected a token from an untrusted issuer',
    )
  }
}
