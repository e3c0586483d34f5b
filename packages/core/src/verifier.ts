/**
 * `createVerifier`: the one place where API.md's order of checks is spelled out, step by step.
 * Each step fails with its own reason; none is skipped, none is reordered. What is not the order
 * of checks lives beside it: the verified-token cache (verified-tokens.ts), the per-request checks
 * of steps 8 and 9 (request-checks.ts), the publication of outcomes (outcomes.ts) and the log
 * lines of refusals (rejections.ts).
 */
import { isAlgorithm, keyFits } from './algorithms.js'
import { isB64token, parseCredentials } from './bearer.js'
import { checkBinding, checkClaims, checkTyp } from './claims.js'
import { resolveConfig, type Config } from './config.js'
import { createDpop } from './dpop.js'
import { clockOf } from './clock.js'
import { createErrorFactory } from './errors.js'
import type { IssuerMatch } from './issuers.js'
import type { VerificationKey } from './jwk.js'
import { KeysUnavailableError } from './key-source.js'
import type { RequestContext } from './log.js'
import { CLOCK_TOLERANCE_S, type VerifierOptions } from './verifier-options.js'
import { createRejectionLog, createUntrustedIssuerLog } from './rejections.js'
import type { Trace } from './observe.js'
import { createOutcomes } from './outcomes.js'
import { configError } from './options.js'
import { healthOf, loadAll, READY_TIMEOUT_MS } from './health.js'
import { createPrincipal, type Principal } from './principal.js'
import { createRequestChecks, type Scheme } from './request-checks.js'
import { createRevocation } from './revocation.js'
import { verifyDecoded } from './signed-bytes.js'
import { decodeToken, HeaderCache } from './token.js'
import type { Verifier } from './verifier-api.js'

export type { Verifier } from './verifier-api.js'
import { VerifiedTokens } from './verified-tokens.js'

/** What a request waited for: the issuer's match, then, once it is known, the keys of the kid. */
interface Waited {
  readonly match: IssuerMatch | undefined
  readonly keys: readonly VerificationKey[] | undefined
}

// One settled promise shared by every request without a bearer token.
const NO_PRINCIPAL: Promise<null> = Promise.resolve(null)

/** Creates a verifier. Throws a TypeError naming the field for any bad option. */
export function createVerifier(options: VerifierOptions): Verifier {
  const config: Config = resolveConfig(options)
  const clock = clockOf(options)
  const { matcher, logger, maxTokenLength, observer } = config
  const errors = createErrorFactory(config.realm, {
    resourceMetadata: config.resourceMetadata?.url,
    dpopAlgorithms: config.dpop?.algorithms,
  })
  const dpop =
    config.dpop === undefined
      ? undefined
      : createDpop(config.dpop, options.clockTolerance ?? CLOCK_TOLERANCE_S, errors)
  const revocation =
    options.revocation === undefined
      ? undefined
      : createRevocation(
          options.revocation,
          errors,
          logger,
          Math.max(...[...config.issuers.values()].map((policy) => policy.clockTolerance)),
          clock,
        )
  const checks = createRequestChecks({ mtls: config.mtls, dpop, revocation, errors, clock })
  const outcomes = createOutcomes(
    errors,
    createRejectionLog(logger, () => clock.monotonic()),
    observer,
  )
  const logUntrusted = createUntrustedIssuerLog(
    logger,
    [...config.issuers.values()].flatMap((policy) => policy.spellings),
  )
  // The parsed headers of verified tokens (token.ts), whether or not tokens are cached.
  const headers = new HeaderCache()
  const cache =
    config.tokenCacheMax > 0 ? new VerifiedTokens(config.tokenCacheMax, matcher, clock) : undefined

  /** STEP 1, then steps 2-9 of its token: see {@link Verifier.authenticateNow}. */
  function authenticateNow(
    authorization: string | readonly string[] | undefined,
    context: RequestContext | undefined,
  ): Principal | null | Promise<Principal> {
    const trace = observer.active ? observer.trace() : undefined
    // STEP 1: the bearer (or DPoP) token of the Authorization header. Its b64token syntax
    // (RFC 6750 s2.1) is decided below, on a refusal only: every token that verifyToken does not
    // refuse at once is three base64url parts joined by dots, all of them b64token characters,
    // whether the cache answered (for that very string) or it was decoded. A regex over the whole
    // token on every request cost half a microsecond of a cached Fastify request, a twentieth.
    let credentials
    try {
      credentials = parseCredentials(authorization, errors, dpop !== undefined, false)
    } catch (error) {
      // parseCredentials throws AuthError (invalid_request) and nothing else.
      throw outcomes.refusal(error, 'bearer', context, trace)
    }
    if (credentials === null) return null
    const { token, scheme } = credentials
    let outcome: Principal | Promise<Principal>
    try {
      outcome = verifyToken(token, context, scheme, trace)
    } catch (error) {
      // A token that is not b64token is a malformed header (STEP 1), whatever the later steps
      // found: the answer is the one STEP 1 gives first.
      throw isB64token(token)
        ? outcomes.refusal(error, scheme, context, trace)
        : outcomes.refusal(
            errors.invalidRequest('malformed_authorization_header'),
            'bearer',
            context,
            trace,
          )
    }
    // A promise comes only after a cache hit or a decoded token: its syntax holds.
    return outcomes.settled(outcome, scheme, context, trace)
  }

  /**
   * Steps 2-9 of one token. Not `async`: where the issuer (a `resolveIssuer` call) or its keys (a
   * JWKS fetch) must be awaited, it returns {@link resume} and lets go of everything it decoded,
   * so that a waiting request holds its token string and nothing more. A 16 KB token whose
   * payload is `[{},{},…]` decodes to about 256 KiB: 3000 of them waiting on a slow JWKS took a
   * 512 MiB heap down (issue 9, item 4). `waited` carries what the wait brought, on the second pass.
   * Throws (rather than rejects with) the error of a token refused at once.
   */
  function verifyToken(
    token: string,
    context: RequestContext | undefined,
    scheme: Scheme,
    trace: Trace | undefined,
    waited?: Waited,
  ): Principal | Promise<Principal> {
    // The length cap comes before any work, the cache lookup included.
    if (typeof token !== 'string' || token.length > maxTokenLength) {
      throw errors.invalidToken('malformed')
    }
    // Token times on the wall clock; intervals (key-set age, resolver cache, log sampling) on the
    // monotonic one (clock.ts), read where an interval is measured.
    const nowMs = clock.now()
    const cached = cache?.get(token, nowMs, trace)
    if (cached !== undefined) {
      // STEP 8 and STEP 9 (below) run on a cache hit too.
      return checks.admit(cached.principal, cached.bound, token, scheme, context, nowMs)
    }
    const monoMs = clock.monotonic()
    // STEP 2: decode header and payload without trusting them; length first, before any work.
    const decoded = decodeToken(token, maxTokenLength, headers)
    if (decoded === undefined) throw errors.invalidToken('malformed')
    const { header, payload } = decoded

    // STEP 3: the issuer allowlist, by exact string equality with one of an issuer's spellings,
    // or a `{tenantid}` template and an allowed tenant, or an answer of `resolveIssuer`
    // (issuers.ts). Nothing else, and no network request, happens for an issuer not listed.
    const { iss } = payload
    const found = waited === undefined ? matcher.match(iss, monoMs) : waited.match
    if (found instanceof Promise) {
      return resume(
        token,
        context,
        scheme,
        trace,
        found.then((match) => ({ match, keys: undefined })),
      )
    }
    const match = found
    if (match === undefined) {
      logUntrusted(header, iss, monoMs, context)
      throw errors.invalidToken('untrusted_issuer')
    }
    const { policy } = match
    // The configured issuer, never the token's string: observers must not get attacker labels.
    if (trace !== undefined) trace.issuer = policy.issuer

    // STEP 4: the key, from this issuer's own source, by `kid`. `jku`, `jwk`, `x5u` and `x5c` are
    // never read: a token must not choose the key that verifies it (RFC 8725 s3.10).
    const { kid, alg } = header
    if (kid !== undefined && typeof kid !== 'string') throw errors.invalidToken('malformed')
    const candidates = waited?.keys ?? policy.keys.find(kid, monoMs)
    if (candidates instanceof Promise) {
      return resume(
        token,
        context,
        scheme,
        trace,
        candidates.then((keys) => ({ match, keys })),
      )
    }
    if (candidates.length === 0) throw errors.invalidToken('unknown_kid')

    // STEP 5: the algorithm: allowed for this issuer, and fit for the key. `none` is never in an
    // allowlist, and an HMAC algorithm only in that of an issuer with a secret (RFC 8725 s3.1).
    if (!isAlgorithm(alg) || !policy.algorithms.has(alg))
      throw errors.invalidToken('alg_not_allowed')
    // The first fitting key, in a loop rather than a filtered copy: this runs for every new token.
    let key: VerificationKey | undefined
    for (const candidate of candidates) {
      if (!keyFits(candidate, alg)) continue
      // Without a `kid`, the key must be unambiguous: we do not try every key of the set.
      if (key !== undefined && kid === undefined) throw errors.invalidToken('unknown_kid')
      key ??= candidate
    }
    if (key === undefined) throw errors.invalidToken('key_mismatch')

    // STEP 6: the signature, by Node's crypto, with the algorithm allowed above.
    if (!verifyDecoded(alg, key, decoded)) {
      throw errors.invalidToken('bad_signature')
    }

    // STEP 7: claims, `typ` and `crit`. We implement no header extension, so any `crit` is not
    // understood and must be rejected (RFC 7515 s4.1.11).
    if (header.crit !== undefined) throw errors.invalidToken('unsupported_crit')
    // Then the issuer's own binding rules: clientIds, the tenant of a template, `claims`.
    const problem =
      checkTyp(header, policy) ??
      checkClaims(payload, policy, nowMs / 1000) ??
      checkBinding(payload, policy, match.tenant)
    if (problem !== undefined) throw errors.invalidToken(problem)

    const principal = createPrincipal(payload, match.issuer, policy.scopeClaims)
    // Every check of the token passed: its header may spare the next token of the issuer a parse.
    headers.remember(decoded.headerSegment, header)
    cache?.remember(token, principal, match, kid, key, payload)
    // STEP 8: sender constraint. A token bound by `cnf` is refused unless its binding holds for
    // this request, whatever the options (no downgrade to bearer): the certificate (mtls.ts), the
    // DPoP proof (dpop.ts).
    // STEP 9: revocation, against the local mirror of the shared rules (revocation.ts).
    // Both chained in request-checks.ts, on every request: a promise only when a store must be
    // awaited, and one test when nothing is configured that could refuse a token without `cnf`.
    return checks.admit(principal, payload.cnf !== undefined, token, scheme, context, nowMs)
  }

  /**
   * Waits for the issuer or its keys holding only the token string, then runs steps 2-7 again
   * with what the wait brought (the same token decodes to the same `iss` and `kid`). The clocks
   * are read again: the claims are checked at the time the keys arrived.
   */
  async function resume(
    token: string,
    context: RequestContext | undefined,
    scheme: Scheme,
    trace: Trace | undefined,
    pending: Promise<Waited>,
  ): Promise<Principal> {
    let waited: Waited
    try {
      waited = await pending
    } catch (error) {
      if (error instanceof KeysUnavailableError) throw errors.jwksUnavailable()
      throw error
    }
    return verifyToken(token, context, scheme, trace, waited)
  }

  return Object.freeze({
    // Not `async`: a token verified at once costs one settled promise, not an async function's
    // promise and an `await` of a value that is already there (one promise and one microtask less).
    verify(token, context) {
      const trace = observer.active ? observer.trace() : undefined
      try {
        let outcome: Principal | Promise<Principal>
        try {
          outcome = verifyToken(token, context, 'bearer', trace)
        } catch (error) {
          throw outcomes.refusal(error, 'bearer', context, trace)
        }
        return Promise.resolve(outcomes.settled(outcome, 'bearer', context, trace))
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        return Promise.reject(error)
      }
    },
    // Not `async`: on every request, the promise of the verification is handed back as it is,
    // not wrapped in a second one (one promise and one microtask less per request).
    authenticate(authorization, context) {
      try {
        const outcome = authenticateNow(authorization, context)
        return outcome === null ? NO_PRINCIPAL : Promise.resolve(outcome)
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        return Promise.reject(error)
      }
    },
    authenticateNow,
    authenticateCached(authorization, context) {
      const trace = observer.active ? observer.trace() : undefined
      let scheme: Scheme = 'bearer'
      try {
        // STEP 1, as in authenticateNow.
        const credentials = parseCredentials(authorization, errors, dpop !== undefined)
        if (credentials === null) return null
        scheme = credentials.scheme
        const { token } = credentials
        // No promise, no signature but a DPoP proof's: a hit answers here; anything else goes
        // through verify(), which publishes a miss. An asynchronous replay store needs a promise.
        if (token.length > maxTokenLength || !checks.synchronous(scheme)) return undefined
        const nowMs = clock.now()
        const cached = cache?.get(token, nowMs, trace)
        if (cached === undefined) return undefined
        // STEP 8, then STEP 9, as after verifyToken's cache hit; `undefined` when revocation
        // cannot answer without a promise.
        const principal = checks.admitNow(
          cached.principal,
          cached.bound,
          token,
          scheme,
          context,
          nowMs,
        )
        if (principal !== undefined && trace !== undefined) observer.settle(trace, false)
        return principal
      } catch (error) {
        throw outcomes.refusal(error, scheme, context, trace)
      }
    },
    revoke(rule) {
      if (revocation === undefined) {
        return Promise.reject(
          new TypeError('trustgate: revoke() needs the revocation option of the verifier'),
        )
      }
      return revocation.revoke(rule)
    },
    health: () => healthOf(config.issuers, clock.monotonic()),
    ready(readyOptions = {}) {
      const { timeout = READY_TIMEOUT_MS } = readyOptions
      if (!Number.isSafeInteger(timeout) || timeout <= 0) {
        throw configError('ready() timeout', 'must be an integer number of milliseconds > 0')
      }
      return loadAll(config.issuers, clock.monotonic(), timeout)
    },
    errors,
    resourceMetadata: config.resourceMetadata,
  } satisfies Verifier)
}
