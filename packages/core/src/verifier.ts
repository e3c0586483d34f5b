/**
 * `createVerifier`: the one place where API.md's order of checks is spelled out, step by step.
 * Each step fails with its own reason; none is skipped, none is reordered.
 */
import { isAlgorithm, keyFits, verifySignature } from './algorithms.js'
import { type VerificationKey } from './jwk.js'
import { isB64token, parseCredentials } from './bearer.js'
import { checkBinding, checkClaims, checkTyp } from './claims.js'
import { resolveConfig, type Config } from './config.js'
import { createDpop, refuseKeyBinding } from './dpop.js'
import { clockOf } from './clock.js'
import { createErrorFactory, type ErrorFactory } from './errors.js'
import type { IssuerPolicy } from './issuer-config.js'
import type { IssuerMatch } from './issuers.js'
import { KeysUnavailableError } from './key-source.js'
import { checkCertificateBinding } from './mtls.js'
import {
  LogSampler,
  MAX_LOGGED_ISS,
  MAX_LOGGED_PARAM,
  sanitize,
  type RequestContext,
} from './log.js'
import type { ResourceMetadata } from './resource-metadata.js'
import { CLOCK_TOLERANCE_S, type VerifierOptions } from './verifier-options.js'
import { createRejectionLog, indexIssuers, issuerHint } from './rejections.js'
import type { Trace } from './observe.js'
import { configError } from './options.js'
import { healthOf, loadAll, READY_TIMEOUT_MS, type Health, type ReadyOptions } from './health.js'
import { createPrincipal, type Principal } from './principal.js'
import { createRevocation } from './revocation.js'
import type { RevocationRule } from './revocation-rules.js'
import {
  BoundedLru,
  estimateEntryBytes,
  TOKEN_CACHE_HEAVY_ENTRY_BYTES,
  TOKEN_CACHE_MAX_BYTES,
  TOKEN_CACHE_MAX_ENTRY_BYTES,
} from './token-cache.js'
import { decodeToken, HeaderCache, type JsonObject } from './token.js'

/** Verifies bearer tokens against the configured issuers. Create one per app and keep it. */
export interface Verifier {
  /** Verifies a token. Resolves to its principal, or rejects with an `AuthError`. */
  verify(token: string, context?: RequestContext): Promise<Principal>
  /**
   * Takes the bearer token from the Authorization header value(s) of a request and verifies it.
   * Resolves to `null` when the request carries no bearer token.
   */
  authenticate(
    authorization: string | readonly string[] | undefined,
    context?: RequestContext,
  ): Promise<Principal | null>
  /**
   * {@link Verifier.authenticate} without a promise where none is needed, for adapters on the hot
   * path: `null` when the request carries no bearer token, the principal when it is known at once
   * (a verified-token cache hit, or a token verified with its issuer's keys already at hand and no
   * store to wait for), and a promise when something must be awaited. Makes every check
   * `authenticate` makes, in the same order, and publishes the same outcome; it throws, rather
   * than rejects with, an error known at once.
   */
  authenticateNow(
    authorization: string | readonly string[] | undefined,
    context?: RequestContext,
  ): Principal | null | Promise<Principal>
  /**
   * The synchronous part of {@link Verifier.authenticate}, for adapters on the hot path: `null`
   * when the request carries no bearer token, the principal when the verified-token cache holds
   * the token and every rule still holds, and `undefined` when `authenticate` must be awaited.
   * Throws `invalid_request` for a malformed header, as `authenticate` rejects with it, and any
   * error of the per-request checks (STEP 8), which a cache hit still makes on `context`.
   */
  authenticateCached(
    authorization: string | readonly string[] | undefined,
    context?: RequestContext,
  ): Principal | null | undefined
  /**
   * Revokes one token, every token of a principal issued before a time, or every token of an
   * issuer issued before a time: at once on this verifier, and on every verifier that shares its
   * `revocation.store` within the store's propagation delay. Needs the `revocation` option.
   */
  revoke(rule: RevocationRule): Promise<void>
  /**
   * Each configured issuer's keys as its key source knows them (state, count, last fetch, last
   * error) and whether all can serve: synchronous, no network. For readiness probes.
   */
  health(): Health
  /**
   * Loads every remote issuer's keys (discovery and JWKS) and resolves once all can serve; rejects
   * with an error naming the issuers whose keys could not be loaded, when their fetches fail or
   * after `timeout` ms (default 10000). For start-up: `await verifier.ready()` before listening.
   */
  ready(options?: ReadyOptions): Promise<void>
  /** Builds the errors of this verifier's realm, for guards. */
  readonly errors: ErrorFactory
  /** The protected resource metadata (RFC 9728) to serve, when the options configure it. */
  readonly resourceMetadata: ResourceMetadata | undefined
}

/** What a request waited for: the issuer's match, then, once it is known, the keys of the kid. */
interface Waited {
  readonly match: IssuerMatch | undefined
  readonly keys: readonly VerificationKey[] | undefined
}

interface CacheEntry {
  /** The whole token: the entry answers for this token and no other. */
  readonly token: string
  readonly principal: Principal
  readonly policy: IssuerPolicy
  readonly match: IssuerMatch
  readonly kid: string | undefined
  readonly key: VerificationKey
  readonly exp: number | undefined
  readonly nbf: number | undefined
  readonly iat: number | undefined
}

/**
 * The verified-token cache is keyed on the last 16 characters of the token (96 bits of its
 * signature), and each entry holds the whole token, compared in full on every hit. A request's
 * token is a new string each time, whose hash V8 computes over every character before a `Map`
 * can look it up: about 1.1 us for a 900-character token, a tenth of a whole Fastify request,
 * against 0.06 us for 16 characters and a full comparison (memcmp). Two tokens that share the
 * suffix share a slot (a forger can copy a signature), and only the token in it is answered for:
 * any other is verified in full, as without a cache, and a refused one never takes the slot.
 */
const CACHE_KEY_CHARS = 16
function cacheKey(token: string): string {
  return token.length <= CACHE_KEY_CHARS ? token : token.slice(token.length - CACHE_KEY_CHARS)
}

// One settled promise shared by every request without a bearer token.
const NO_PRINCIPAL: Promise<null> = Promise.resolve(null)

/** How the token came: `Authorization: Bearer` (or a `getToken` option), or `DPoP` (RFC 9449). */
type Scheme = 'bearer' | 'dpop'

/** Creates a verifier. Throws a TypeError naming the field for any bad option. */
export function createVerifier(options: VerifierOptions): Verifier {
  const config: Config = resolveConfig(options)
  const clock = clockOf(options)
  const { matcher, logger, maxTokenLength, mtls } = config
  const dpopConfig = config.dpop
  const errors = createErrorFactory(config.realm, {
    resourceMetadata: config.resourceMetadata?.url,
    dpopAlgorithms: dpopConfig?.algorithms,
  })
  const dpop =
    dpopConfig === undefined
      ? undefined
      : createDpop(dpopConfig, options.clockTolerance ?? CLOCK_TOLERANCE_S, errors)
  const sampler = new LogSampler()
  const logRejection = createRejectionLog(logger, () => clock.monotonic())
  const spellings = indexIssuers([...config.issuers.values()].flatMap((policy) => policy.spellings))
  const { observer } = config
  // The parsed headers of verified tokens (token.ts), whether or not tokens are cached.
  const headers = new HeaderCache()
  const cache =
    config.tokenCacheMax > 0
      ? new BoundedLru<CacheEntry>({
          max: config.tokenCacheMax,
          maxBytes: TOKEN_CACHE_MAX_BYTES,
          maxEntryBytes: TOKEN_CACHE_MAX_ENTRY_BYTES,
          heavyEntryBytes: TOKEN_CACHE_HEAVY_ENTRY_BYTES,
          sizeOf: (entry) => estimateEntryBytes(entry.token, entry.principal),
        })
      : undefined
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

  function logUntrusted(
    header: JsonObject,
    iss: unknown,
    now: number,
    context?: RequestContext,
  ): void {
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
        hint: issuerHint(sanitize(iss, MAX_LOGGED_ISS), spellings),
      },
      'trustgate rejected a token from an untrusted issuer',
    )
  }

  /** A cached principal, if the token was verified before and every rule still holds. */
  function fromCache(
    token: string,
    nowMs: number,
    monoMs: number,
    trace?: Trace,
  ): Principal | undefined {
    if (cache === undefined) return undefined
    const key = cacheKey(token)
    const entry = cache.get(key)
    // Another token with the same last characters is not this one.
    if (entry?.token !== token) return undefined
    const { policy } = entry
    const now = nowMs / 1000
    const tolerance = policy.clockTolerance
    const keys = policy.keys.find(entry.kid, monoMs)
    // A refetch it started is shared with the full path below; its outcome is not needed here.
    if (keys instanceof Promise) keys.catch(() => undefined)
    // The clock is read on every hit: the entry never outlives `exp`, and a clock set back
    // before `nbf` or `iat` (tolerance included) is honoured as on the full path.
    const stillValid =
      (entry.exp === undefined || entry.exp > now - tolerance) &&
      (entry.nbf === undefined || entry.nbf <= now + tolerance) &&
      (entry.iat === undefined || entry.iat <= now + tolerance) &&
      (policy.maxTokenAge === undefined ||
        (entry.iat !== undefined && now - entry.iat - tolerance <= policy.maxTokenAge)) &&
      // A resolved issuer's answer expires, and a tenant can be removed from `tenants`.
      matcher.holds(entry.match, monoMs) &&
      // The key that verified it must still be in the issuer's current set (rotation, removal).
      Array.isArray(keys) &&
      keys.includes(entry.key)
    if (stillValid) {
      if (trace !== undefined) {
        trace.cached = true
        trace.issuer = policy.issuer
      }
      return entry.principal
    }
    cache.delete(key)
    return undefined
  }

  /**
   * The checks of this request rather than of the token. They run on every request, a
   * verified-token cache hit included, since a cached principal says nothing about the request.
   */
  function constrain(
    principal: Principal,
    token: string,
    scheme: Scheme,
    context: RequestContext | undefined,
    nowMs: number,
  ): Principal | Promise<Principal> {
    // STEP 8: sender constraint. A token bound by `cnf` is refused unless its binding holds for
    // this request, whatever the options (no downgrade to bearer): the certificate (mtls.ts), the
    // DPoP proof (dpop.ts). A promise only when the DPoP replay store is asynchronous.
    checkCertificateBinding(principal, mtls, context, errors)
    if (dpop === undefined) {
      refuseKeyBinding(principal, errors)
      return principal
    }
    const proven = dpop.check(principal, token, scheme, context, nowMs)
    return proven === undefined ? principal : proven.then(() => principal)
  }

  function admit(
    principal: Principal,
    nowMs: number,
    monoMs: number,
  ): Principal | Promise<Principal> {
    // STEP 9: revocation, against the local mirror of the shared rules (revocation.ts).
    return revocation === undefined ? principal : revocation.admit(principal, nowMs, monoMs)
  }

  // Every outcome leaves a trace: a sampled debug line for a rejection (rejections.ts) and, when
  // someone listens, a diagnostics-channel message and metrics (observe.ts). Without a subscriber
  // or metrics, no trace and no message is built.
  function refusal(
    error: unknown,
    scheme: Scheme,
    context: RequestContext | undefined,
    trace: Trace | undefined,
  ): unknown {
    // RFC 9449 s7.1: the error goes on the scheme the client used.
    const answer = scheme === 'dpop' ? errors.onDpopScheme(error) : error
    logRejection(answer, context)
    if (trace !== undefined) observer.settle(trace, true, answer)
    return answer
  }

  /**
   * Steps 2-9 of one token, with its trace: the principal at once when no issuer, key set or
   * store had to be awaited, a promise otherwise. Throws (rather than rejects with) the
   * {@link refusal} of a token refused at once.
   */
  function settle(
    token: string,
    context: RequestContext | undefined,
    scheme: Scheme,
    trace: Trace | undefined,
  ): Principal | Promise<Principal> {
    let outcome: Principal | Promise<Principal>
    try {
      outcome = verifyToken(token, context, scheme, trace)
    } catch (error) {
      throw refusal(error, scheme, context, trace)
    }
    return settled(outcome, scheme, context, trace)
  }

  /** Publishes the outcome of steps 2-9, at once or when the promise settles. */
  function settled(
    outcome: Principal | Promise<Principal>,
    scheme: Scheme,
    context: RequestContext | undefined,
    trace: Trace | undefined,
  ): Principal | Promise<Principal> {
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
  }

  // Not `async`: a token verified at once costs one settled promise, not an async function's
  // promise and an `await` of a value that is already there (one promise and one microtask less).
  function verify(
    token: string,
    context?: RequestContext,
    scheme: Scheme = 'bearer',
  ): Promise<Principal> {
    const trace = observer.active ? observer.trace() : undefined
    try {
      return Promise.resolve(settle(token, context, scheme, trace))
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error)
    }
  }

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
      throw refusal(error, 'bearer', context, trace)
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
        ? refusal(error, scheme, context, trace)
        : refusal(errors.invalidRequest('malformed_authorization_header'), 'bearer', context, trace)
    }
    // A promise comes only after a cache hit or a decoded token: its syntax holds.
    return settled(outcome, scheme, context, trace)
  }

  /** STEP 8, then STEP 9: a promise only when either store must be awaited. */
  function admitConstrained(
    principal: Principal,
    token: string,
    scheme: Scheme,
    context: RequestContext | undefined,
    nowMs: number,
    monoMs: number,
  ): Principal | Promise<Principal> {
    const constrained = constrain(principal, token, scheme, context, nowMs)
    return constrained instanceof Promise
      ? constrained.then((bound) => admit(bound, nowMs, monoMs))
      : admit(constrained, nowMs, monoMs)
  }

  /**
   * Steps 2-7 of one token. Not `async`: where the issuer (a `resolveIssuer` call) or its keys (a
   * JWKS fetch) must be awaited, it returns {@link resume} and lets go of everything it decoded,
   * so that a waiting request holds its token string and nothing more. A 16 KB token whose
   * payload is `[{},{},…]` decodes to about 256 KiB: 3000 of them waiting on a slow JWKS took a
   * 512 MiB heap down (issue 9, item 4). `waited` carries what the wait brought, on the second pass.
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
    // monotonic one (clock.ts).
    const nowMs = clock.now()
    const monoMs = clock.monotonic()
    const cached = fromCache(token, nowMs, monoMs, trace)
    // STEP 8 and STEP 9 (below) run on a cache hit too.
    if (cached !== undefined) {
      return admitConstrained(cached, token, scheme, context, nowMs, monoMs)
    }

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
    if (!verifySignature(alg, key, decoded.signingInput, decoded.signature)) {
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
    cache?.set(cacheKey(token), {
      token,
      principal,
      policy,
      match,
      kid,
      key,
      // Numbers, or absent: checkClaims has refused any other value.
      exp: payload.exp as number | undefined,
      nbf: payload.nbf as number | undefined,
      iat: payload.iat as number | undefined,
    })
    return admitConstrained(principal, token, scheme, context, nowMs, monoMs)
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
    verify: (token, context) => verify(token, context),
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
        const credentials = parseCredentials(authorization, errors, dpop !== undefined)
        if (credentials === null) return null
        scheme = credentials.scheme
        const { token } = credentials
        // No promise, no signature but a DPoP proof's: a hit answers here; anything else goes
        // through verify(), which publishes a miss. An asynchronous replay store needs a promise.
        if (token.length > maxTokenLength || (scheme === 'dpop' && dpop?.synchronous !== true)) {
          return undefined
        }
        const nowMs = clock.now()
        const monoMs = clock.monotonic()
        const cached = fromCache(token, nowMs, monoMs, trace)
        if (cached === undefined) return undefined
        // STEP 9 must be able to answer now, or the request goes through authenticate(): asked
        // before STEP 8, whose DPoP claim a second pass would find taken.
        if (revocation !== undefined && !revocation.ready(monoMs)) return undefined
        const constrained = constrain(cached, token, scheme, context, nowMs)
        // Never a promise here: the DPoP replay store is the memory one (checked above). Were it
        // one, the proof's jti would be claimed already, and authenticate() would refuse it.
        if (constrained instanceof Promise) {
          constrained.catch(() => undefined)
          return undefined
        }
        // STEP 9: revocation, against the local mirror.
        const principal =
          revocation === undefined
            ? constrained
            : revocation.admitCached(constrained, nowMs, monoMs)
        if (trace !== undefined) observer.settle(trace, false)
        return principal
      } catch (error) {
        const answer = scheme === 'dpop' ? errors.onDpopScheme(error) : error
        logRejection(answer, context)
        if (trace !== undefined) observer.settle(trace, true, answer)
        throw answer
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
