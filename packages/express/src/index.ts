/**
 * The Express middleware: `jwtAuth(options)` verifies the bearer token of every request and sets
 * `req.principal`; `requireAuth()` and `requireScopes(...)` guard routes. Failures go to
 * `next(err)` as an `AuthError` carrying `status` and `headers`, which Express's own error handler
 * already turns into the right response. All token logic lives in `@trustgate/core`.
 */
import {
  authorizationValues,
  checkOptionNames,
  checkOriginOption,
  checkScopeArguments,
  checkScopeList,
  createGuard,
  createVerifier,
  dpopValues,
  isAuthError,
  peerCertificate,
  requestUrl,
  type ClientCertificate,
  type Guard,
  type Principal,
  type Requirement,
  type Verifier,
  type VerifierOptions,
  VERIFIER_OPTION_NAMES,
} from '@trustgate/core'
import type { NextFunction, Request, RequestHandler, Response } from 'express'

declare global {
  // Express types its request through this global namespace; augmenting it is the documented way.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified caller, or `null` when the request carried no token. */
      principal: Principal | null
    }
  }
}

/** Options of {@link jwtAuth}: the verifier's, plus how to take the token and answer errors. */
export interface ExpressJwtAuthOptions extends VerifierOptions {
  /**
   * Takes the token from the request instead of the Authorization header. Return `null` or
   * `undefined` for "no token". Avoid query strings: they end up in access logs (RFC 6750 s5.3).
   */
  getToken?: (req: Request) => string | null | undefined
  /**
   * `false` (default): pass an `AuthError` to `next(err)`. `true`: answer it here with its status,
   * `WWW-Authenticate` and the JSON body `{ error, error_description }`, from this middleware and
   * from the guards.
   */
  respond?: boolean
  /**
   * The client certificate of a request, for certificate-bound tokens (RFC 8705), when a proxy in
   * front terminates TLS: `forwardedCertificate({ format, trustedProxies })`. Without it, the
   * certificate is the TLS peer certificate of the request's own socket, and no header is read.
   */
  getClientCertificate?: (req: Request) => ClientCertificate | null | undefined
  /**
   * The public origin of the API (`https://api.example.com`), or a function that gives it for a
   * request: DPoP proofs' `htu` is compared with it and the path of the request line. Required
   * with `dpop`. The `Host` header is never used; behind a proxy, give the origin clients call, or
   * read it in the function from a header that only your proxy sets.
   */
  origin?: string | ((req: Request) => string)
  /**
   * `true`: every request that passes through this middleware needs a principal (401
   * `missing_token` without one), guard or not, as `app.use(auth())` of express-oauth2-jwt-bearer
   * does. Mount the middleware after the routes that stay public, or use `skip`. Default `false`:
   * a route without a guard is public.
   */
  required?: boolean
  /**
   * Picks requests that are not verified at all (health checks, webhooks): they get
   * `principal = null`, even with a bad token, and `required` does not apply to them.
   */
  skip?: (req: Request) => boolean
}

/** The middleware, with the verifier behind it for tokens that do not come with a request. */
export interface JwtAuthMiddleware extends RequestHandler {
  readonly verifier: Verifier
}

interface State {
  readonly verifier: Verifier
  readonly respond: boolean
}

// Which jwtAuth() saw a request, for the guards: they need its realm and its `respond` choice.
// A symbol-keyed property of the request: no per-request WeakMap entry on the hot path.
// The jwtAuth() that saw each request, for the guards (see the middleware on why not a property).
const STATES = new WeakMap<Request, State>()

/**
 * Ends a refused request: our answer with `respond`, `next(err)` otherwise. Never throws: an
 * error that only looks like an AuthError (and so cannot be answered) goes to `next` as a 500,
 * rather than becoming an unhandled rejection and a request that never gets an answer.
 */
function fail(state: State, error: unknown, res: Response, next: NextFunction): void {
  if (state.respond && isAuthError(error)) {
    try {
      res.status(error.status).set(error.headers).json(error.toJSON())
      return
    } catch (unexpected) {
      if (res.headersSent) return
      next(unexpected)
      return
    }
  }
  // Never a non-Error: a rule that rejects with the string 'route' would make Express skip to the
  // next matching route, past the guard.
  next(error instanceof Error ? error : new Error('trustgate: a guard failed with a non-Error'))
}

/** What the core may read of a request, each read only if a check or a log line needs it. */
class LogContext {
  readonly #req: Request
  readonly #getClientCertificate: ExpressJwtAuthOptions['getClientCertificate']
  readonly #origin: ExpressJwtAuthOptions['origin']
  constructor(
    req: Request,
    getClientCertificate: ExpressJwtAuthOptions['getClientCertificate'],
    origin: ExpressJwtAuthOptions['origin'],
  ) {
    this.#req = req
    this.#getClientCertificate = getClientCertificate
    this.#origin = origin
  }
  get method(): string {
    return this.#req.method
  }
  // DPoP's htu: the configured origin and the request line's own target (`originalUrl`: mounted
  // routers rewrite `req.url`), never the Host header.
  get url(): string | undefined {
    const origin = typeof this.#origin === 'function' ? this.#origin(this.#req) : this.#origin
    return requestUrl(origin, this.#req.originalUrl)
  }
  get dpop(): string[] {
    return dpopValues(this.#req.rawHeaders)
  }
  // One source, chosen by configuration: the forwarded one, or the socket's. Never one, then the
  // other, which would let a client pick the certificate that suits it.
  get clientCertificate(): ClientCertificate | null | undefined {
    const read = this.#getClientCertificate
    return read === undefined ? peerCertificate(this.#req.socket) : read(this.#req)
  }
  get reqId(): string | number | undefined {
    const id = (this.#req as { id?: unknown }).id
    return typeof id === 'string' || typeof id === 'number' ? id : undefined
  }
  get remoteAddress(): string | undefined {
    return this.#req.ip ?? this.#req.socket.remoteAddress
  }
}

// A request that `skip` picked: no principal, and `required` does not apply.
const SKIPPED = Symbol('skipped')

/** The option names the middleware takes besides the verifier's. */
const ADAPTER_OPTION_NAMES: readonly (keyof ExpressJwtAuthOptions)[] = [
  'getToken',
  'respond',
  'required',
  'skip',
  'getClientCertificate',
  'origin',
]
const OPTION_NAMES = new Set<string>([...VERIFIER_OPTION_NAMES, ...ADAPTER_OPTION_NAMES])

/** `app.use(jwtAuth(options))`: verifies the bearer token of every request. */
export function jwtAuth(options: ExpressJwtAuthOptions): JwtAuthMiddleware {
  // A misspelt option (`respnd: true`) must not leave its setting at the default in silence.
  checkOptionNames(options, OPTION_NAMES)
  const {
    getToken,
    respond = false,
    required = false,
    skip,
    getClientCertificate,
    origin,
    ...verifierOptions
  } = options
  checkOriginOption(origin, verifierOptions.dpop !== undefined)
  if (getToken !== undefined && typeof getToken !== 'function') {
    throw new TypeError('trustgate: getToken must be a function')
  }
  if (typeof respond !== 'boolean') throw new TypeError('trustgate: respond must be a boolean')
  if (typeof required !== 'boolean') throw new TypeError('trustgate: required must be a boolean')
  if (skip !== undefined && typeof skip !== 'function') {
    throw new TypeError('trustgate: skip must be a function')
  }
  if (getClientCertificate !== undefined && typeof getClientCertificate !== 'function') {
    throw new TypeError('trustgate: getClientCertificate must be a function')
  }
  const verifier = createVerifier(verifierOptions)
  const state: State = { verifier, respond }
  const metadata = verifier.resourceMetadata

  const middleware = function trustgateAuthenticate(
    req: Request,
    res: Response,
    next: NextFunction,
  ): void {
    // `req.principal` is written once on the common path, with its final value: Express 5 gives
    // each request its app's prototype (Object.setPrototypeOf), and V8 then makes every property
    // added to the request a new hidden class, about 2 us each (a fifth of what trustgate cost an
    // Express request). For the same reason the guards find this jwtAuth() in a WeakMap.
    STATES.set(req, state)
    // RFC 9728 s3.1: the metadata document, public and unverified: a client without a token yet
    // is the one that needs it. Only configuration goes into it.
    if (
      metadata !== undefined &&
      (req.method === 'GET' || req.method === 'HEAD') &&
      req.baseUrl + req.path === metadata.path
    ) {
      req.principal = null
      res.json(metadata.document)
      return
    }
    // Synchronous when the answer is known at once (no token, a cached token, or one verified with
    // keys at hand): no promise.
    // `next` is called outside the try, so that nothing downstream can make it run twice.
    let outcome: Principal | null | undefined | Promise<Principal | null> | typeof SKIPPED
    try {
      // The app's own functions see a request without a principal yet.
      if (skip !== undefined || getToken !== undefined) req.principal = null
      if (skip?.(req) === true) {
        outcome = SKIPPED
      } else if (getToken === undefined) {
        const context = new LogContext(req, getClientCertificate, origin)
        outcome = verifier.authenticateNow(authorizationValues(req.rawHeaders), context)
      } else {
        const token = getToken(req)
        outcome =
          token === null || token === undefined
            ? null
            : verifier.verify(token, new LogContext(req, getClientCertificate, origin))
      }
      if (outcome === null && required) throw verifier.errors.missingToken()
      if (outcome === SKIPPED) outcome = null
    } catch (error) {
      req.principal = null
      fail(state, error, res, next)
      return
    }
    if (!(outcome instanceof Promise)) {
      req.principal = outcome
      next()
      return
    }
    req.principal = null
    const pending = outcome
    pending.then(
      (principal) => {
        if (principal === null && required) {
          fail(state, verifier.errors.missingToken(), res, next)
          return
        }
        req.principal = principal
        next()
      },
      (error: unknown) => {
        fail(state, error, res, next)
      },
    )
  }
  return Object.assign(middleware, { verifier })
}

function guard(requirement: Requirement, name: string): RequestHandler {
  // A guard is made before any jwtAuth() it will serve; it checks each request with the errors
  // (the realm) of the jwtAuth() that saw that request.
  const checks = new WeakMap<State, Guard>()
  const build = (state: State): Guard => {
    let check = checks.get(state)
    if (check === undefined) {
      check = createGuard(requirement, state.verifier.errors)
      checks.set(state, check)
    }
    return check
  }
  // A bad scope list is a start-up error, not a request-time one.
  if (requirement.kind === 'scopes') checkScopeList(requirement.scopes, name)
  return function trustgateGuard(req: Request, res: Response, next: NextFunction): void {
    const state = STATES.get(req)
    if (state === undefined) {
      next(new Error(`trustgate: ${name}() needs app.use(jwtAuth(options)) before it`))
      return
    }
    let result: void | Promise<void>
    try {
      result = build(state)(req.principal)
    } catch (error) {
      fail(state, error, res, next)
      return
    }
    if (result instanceof Promise) {
      result.then(
        () => {
          next()
        },
        (error: unknown) => {
          fail(state, error, res, next)
        },
      )
    } else {
      next()
    }
  }
}

/** A route guard that requires a principal: 401 `missing_token` without one. */
export function requireAuth(): RequestHandler {
  // `app.get(path, requireAuth, ...)` type-checks (Express accepts any function as middleware), and
  // would leave every request hanging: it would only build a guard. Fail loudly instead.
  if (arguments.length > 0)
    throw new TypeError('trustgate: requireAuth is a factory: use requireAuth()')
  return guard({ kind: 'authenticated' }, 'requireAuth')
}

/** A route guard that requires every one of `scopes`: 403 `insufficient_scope` otherwise. */
export function requireScopes(...scopes: string[]): RequestHandler {
  checkScopeArguments(scopes, 'requireScopes')
  return guard({ kind: 'scopes', scopes, mode: 'all' }, 'requireScopes')
}

/** A route guard that requires at least one of `scopes`: 403 `insufficient_scope` otherwise. */
export function requireAnyScope(...scopes: string[]): RequestHandler {
  checkScopeArguments(scopes, 'requireAnyScope')
  return guard({ kind: 'scopes', scopes, mode: 'any' }, 'requireAnyScope')
}

/**
 * A route guard from a rule over the principal, such as a tenant or role claim; a principal the
 * rule refuses gets 403 `insufficient_scope` with reason `forbidden`.
 */
export function requirePrincipal(
  test: (principal: Principal) => boolean | Promise<boolean>,
): RequestHandler {
  if (typeof test !== 'function')
    throw new TypeError('trustgate: requirePrincipal needs a function')
  return guard({ kind: 'predicate', test }, 'requirePrincipal')
}

// Runtime values a user needs without installing @trustgate/core (pnpm's strict layout does not
// let an app import a package it did not install): the error class and predicate, the presets.
export {
  AuthError,
  auth0,
  clerk,
  cognito,
  entraId,
  firebase,
  forwardedCertificate,
  google,
  isAuthError,
  keycloak,
  okta,
} from '@trustgate/core'
export type {
  AuthErrorCode,
  AuthErrorReason,
  IssuerConfig,
  Principal,
  VerifierOptions,
} from '@trustgate/core'
