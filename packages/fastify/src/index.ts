/**
 * The Fastify plugin: verifies the bearer token of every request in an `onRequest` hook (before
 * the body is parsed), sets `request.principal`, and offers route-level guards, both as imports
 * (`authenticate`, `requireScopes(...)`) and as decorators (`app.authenticate`). All token logic
 * lives in `@trustgate/core`; this file only translates.
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
  type AuthError,
  type ClientCertificate,
  type Guard,
  type Principal,
  type ReadyOptions,
  type Requirement,
  type Verifier,
  type VerifierOptions,
  VERIFIER_OPTION_NAMES,
} from '@trustgate/core'
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  RouteOptions,
} from 'fastify'
import fp from 'fastify-plugin'
import { markRoute, wrapSwagger } from './openapi.js'

/** Options of the Fastify plugin: the verifier's, plus how to take the token and answer errors. */
export interface FastifyJwtAuthOptions extends VerifierOptions {
  /**
   * Takes the token from the request instead of the Authorization header. Return `null` or
   * `undefined` for "no token". Avoid query strings: they end up in access logs (RFC 6750 s5.3).
   */
  getToken?: (request: FastifyRequest) => string | null | undefined
  /**
   * `true` (default): answer an `AuthError` with its status, `WWW-Authenticate` and the JSON body
   * `{ error, error_description }`. `false`: throw it, so that the app's `setErrorHandler` decides.
   */
  respond?: boolean
  /**
   * `true`: every request in the plugin's scope needs a principal (401 `missing_token` without
   * one), guard or not, unless its route sets `config: { trustgate: { required: false } }`.
   * Default `false`: a route without a guard is public.
   */
  required?: boolean
  /**
   * Picks requests that are not verified at all (health checks, webhooks): they get
   * `principal = null`, even with a bad token, and `required` does not apply to them.
   */
  skip?: (request: FastifyRequest) => boolean
  /**
   * The client certificate of a request, for certificate-bound tokens (RFC 8705), when a proxy in
   * front terminates TLS: `forwardedCertificate({ format, trustedProxies })`. Without it, the
   * certificate is the TLS peer certificate of the request's own socket, and no header is read.
   */
  getClientCertificate?: (request: FastifyRequest) => ClientCertificate | null | undefined
  /**
   * The public origin of the API (`https://api.example.com`), or a function that gives it for a
   * request: DPoP proofs' `htu` is compared with it and the path of the request line. Required
   * with `dpop`. The `Host` header is never used; behind a proxy, give the origin clients call, or
   * read it in the function from a header that only your proxy sets.
   */
  origin?: string | ((request: FastifyRequest) => string)
  /**
   * `true` or `{ timeout }`: `app.ready()` (and so `listen()`) waits, in an `onReady` hook, until
   * every remote issuer's keys are loaded (`verifier.ready()`), and fails naming the issuers whose
   * keys could not be had within `timeout` ms (default 10000). Default `false`: keys load on the
   * first request that needs them.
   */
  waitForKeys?: boolean | { timeout?: number }
}

/**
 * A route-level guard of trustgate, for `onRequest`, `preValidation` or `preHandler`, and for
 * `@fastify/auth`. It declares no `this` and takes the plainest request and reply, so that it fits
 * the routes of any instance (a pino `loggerInstance`, a type provider, route generics).
 *
 * Called by Fastify or `@fastify/auth` with a `done` callback, it calls `done()` or hands the
 * `AuthError` on with `done(error)`, so that `@fastify/auth` can try its next strategy; a guard
 * that can decide at once costs no promise. Called with `(request, reply)` only, as
 * `await authenticate(request, reply)`, it returns a promise that rejects with the `AuthError`.
 */
export interface AuthGuard {
  (request: FastifyRequest, reply: FastifyReply): Promise<void>
  (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void
}

/** Route config read by trustgate: `config: { trustgate: { required: false } }`. */
export interface TrustgateRouteConfig {
  /** `false`: this route is public even though the plugin was registered with `required: true`. */
  required?: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller, or `null` when the request carried no token. */
    principal: Principal | null
  }
  interface FastifyContextConfig {
    /** trustgate's settings for this route. */
    trustgate?: TrustgateRouteConfig
  }
  // The guards as decorators. Prefer the imports: on an instance the plugin was not registered
  // in, these are `undefined` at run time, which the types cannot tell.
  interface FastifyInstance {
    /** A guard that requires a principal (401 `missing_token` without one). */
    authenticate: AuthGuard
    /** A guard that requires every one of `scopes` (403 `insufficient_scope`). */
    requireScopes(...scopes: string[]): AuthGuard
    /** A guard that requires at least one of `scopes` (403 `insufficient_scope`). */
    requireAnyScope(...scopes: string[]): AuthGuard
    /**
     * A guard from a rule over the principal, such as a tenant or role claim; a principal the rule
     * refuses gets 403 `insufficient_scope` with reason `forbidden`.
     */
    requirePrincipal(test: (principal: Principal) => boolean | Promise<boolean>): AuthGuard
    /** The verifier behind the plugin, for tokens that do not come with a request. */
    trustgate: Verifier
  }
}

/** What one registration of the plugin decided: the verifier and the answers of its scope. */
interface Scope {
  readonly verifier: Verifier
  readonly respond: boolean
  readonly required: boolean
  /** Built once per scope: the hot `authenticate` guard needs no lookup. */
  readonly authenticated: Guard
}

// The scope of a registration is kept on the Fastify instance it was registered on. Child
// contexts are made with Object.create(parent), so a route's `request.server` finds the scope of
// the nearest registration above it through the prototype chain, and nothing when none exists.
const SCOPE = Symbol('trustgate.scope')
// The requirement of a guard, read by the OpenAPI support.
const REQUIREMENT = Symbol('trustgate.requirement')
// The variant of a guard that answers a refusal itself; see useDirectGuards.
const DIRECT = Symbol('trustgate.direct')

type Scoped = FastifyInstance & { [SCOPE]?: Scope }
type Done = (error?: Error) => void
type DirectGuard = ((request: FastifyRequest, reply: FastifyReply, done: Done) => void) & {
  [REQUIREMENT]: Requirement
}
type Tagged = AuthGuard & { [REQUIREMENT]: Requirement; [DIRECT]: DirectGuard }

function scopeOf(request: FastifyRequest): Scope | undefined {
  return (request.server as Scoped)[SCOPE]
}

function optionError(field: string, problem: string): TypeError {
  return new TypeError(`trustgate: ${field} ${problem}`)
}

/** An error for the framework: a 500 unless it says otherwise. Never a thrown non-Error. */
function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error('trustgate: a guard failed with a non-Error')
}

/** Answers with our body rather than Fastify's default `{ statusCode, code, error, message }`. */
function answer(reply: FastifyReply, error: AuthError): void {
  reply.code(error.statusCode).headers(error.headers).send(error.toJSON())
}

/**
 * Ends a refused request: our answer with `respond`, the framework's error path otherwise. Never
 * throws: an error that only looks like an AuthError (and so cannot be answered) becomes a 500
 * through `done`, rather than an unhandled rejection and a request that never gets an answer.
 */
function refuse(scope: Scope, reply: FastifyReply, done: (error?: Error) => void, error: unknown) {
  if (scope.respond && isAuthError(error)) {
    try {
      answer(reply, error)
      return
    } catch (unexpected) {
      if (reply.sent) return
      done(asError(unexpected))
      return
    }
  }
  done(asError(error))
}

/** A guard's refusal, for `@fastify/auth` and `await`: the error is handed on as it is. */
function handOn(_request: FastifyRequest, _reply: FastifyReply, done: Done, error: unknown): void {
  done(asError(error))
}

/** A guard's refusal on a route hook: answered with the scope's `respond`, handed on otherwise. */
function answerOrHandOn(
  request: FastifyRequest,
  reply: FastifyReply,
  done: Done,
  error: unknown,
): void {
  const scope = scopeOf(request)
  if (scope === undefined) done(asError(error))
  else refuse(scope, reply, done, error)
}

function notRegistered(name: string): Error {
  // A guard on a route outside every registration must fail closed: a 500 that says why,
  // never a route left open (the plugin registered in a sibling context, say).
  return Object.assign(
    new Error(
      `trustgate: ${name} guards a route where @trustgate/fastify is not registered; register ` +
        'jwtAuth in this route’s context or one of its parents',
    ),
    { statusCode: 500 },
  )
}

// A request that `skip` picked: no principal, and `required` does not apply.
const SKIPPED = Symbol('skipped')

function makeGuard(requirement: Requirement, name: string): AuthGuard {
  // A bad scope list is a start-up error, not a request-time one.
  if (requirement.kind === 'scopes') checkScopeList(requirement.scopes, name)
  // One check per scope, built on first use with that scope's errors (its realm).
  const checks = new WeakMap<Scope, Guard>()
  function checkOf(scope: Scope): Guard {
    if (requirement.kind === 'authenticated') return scope.authenticated
    let check = checks.get(scope)
    if (check === undefined) {
      check = createGuard(requirement, scope.verifier.errors)
      checks.set(scope, check)
    }
    return check
  }
  // Runs the check and ends in exactly one of `done()` or `refused(…)`, at once when it can (no
  // promise for a guard that decides synchronously).
  function run(
    request: FastifyRequest,
    reply: FastifyReply,
    done: Done,
    refused: (request: FastifyRequest, reply: FastifyReply, done: Done, error: unknown) => void,
  ): void {
    let result: void | Promise<void>
    try {
      const scope = scopeOf(request)
      if (scope === undefined) throw notRegistered(name)
      result = checkOf(scope)(request.principal)
    } catch (error) {
      refused(request, reply, done, error)
      return
    }
    if (!(result instanceof Promise)) {
      done()
      return
    }
    result.then(
      () => {
        done()
      },
      (error: unknown) => {
        refused(request, reply, done, error)
      },
    )
  }
  function trustgateGuard(request: FastifyRequest, reply: FastifyReply): Promise<void>
  function trustgateGuard(request: FastifyRequest, reply: FastifyReply, done: Done): void
  function trustgateGuard(
    request: FastifyRequest,
    reply: FastifyReply,
    done?: Done,
  ): Promise<void> | undefined {
    if (done !== undefined) {
      run(request, reply, done, handOn)
      return undefined
    }
    return new Promise<void>((resolve, reject) => {
      const settle: Done = (error) => {
        if (error === undefined) resolve()
        else reject(error)
      }
      run(request, reply, settle, handOn)
    })
  }
  function trustgateDirect(request: FastifyRequest, reply: FastifyReply, done: Done): void {
    run(request, reply, done, answerOrHandOn)
  }
  const direct: DirectGuard = Object.assign(trustgateDirect, { [REQUIREMENT]: requirement })
  return Object.assign(trustgateGuard, {
    [REQUIREMENT]: requirement,
    [DIRECT]: direct,
  }) satisfies Tagged
}

/**
 * A guard that requires a principal: 401 `missing_token` without one. Usable on any route; on a
 * route where the plugin is not registered, it answers 500 rather than let the request through.
 */
export const authenticate: AuthGuard = makeGuard({ kind: 'authenticated' }, 'authenticate')

/** A guard that requires every one of `scopes`: 403 `insufficient_scope` otherwise. */
export function requireScopes(...scopes: string[]): AuthGuard {
  checkScopeArguments(scopes, 'requireScopes')
  return makeGuard({ kind: 'scopes', scopes, mode: 'all' }, 'requireScopes')
}

/** A guard that requires at least one of `scopes`: 403 `insufficient_scope` otherwise. */
export function requireAnyScope(...scopes: string[]): AuthGuard {
  checkScopeArguments(scopes, 'requireAnyScope')
  return makeGuard({ kind: 'scopes', scopes, mode: 'any' }, 'requireAnyScope')
}

/**
 * A guard from a rule over the principal, such as a tenant or role claim; a principal the rule
 * refuses gets 403 `insufficient_scope` with reason `forbidden`. A rule that throws is a 500.
 */
export function requirePrincipal(
  test: (principal: Principal) => boolean | Promise<boolean>,
): AuthGuard {
  if (typeof test !== 'function') throw optionError('requirePrincipal()', 'needs a function')
  return makeGuard({ kind: 'predicate', test }, 'requirePrincipal')
}

/** The trustgate guards among a route's hooks, for OpenAPI. */
function guardsOf(route: RouteOptions): Requirement[] {
  const found: Requirement[] = []
  for (const hooks of [route.onRequest, route.preValidation, route.preHandler]) {
    for (const hook of Array.isArray(hooks) ? (hooks as unknown[]) : [hooks]) {
      const requirement = (hook as Partial<Tagged> | undefined)?.[REQUIREMENT]
      if (requirement !== undefined) found.push(requirement)
    }
  }
  return found
}

/**
 * A guard hands its AuthError on (`done(error)`), so that `@fastify/auth` can try its next
 * strategy. Where Fastify itself calls it, a route hook, the scope's `respond` decides instead:
 * so each guard among a route's own hooks is swapped, as the route is added, for its variant
 * that answers with trustgate's body. No error handler is involved: every other error of the
 * route takes the path it always took, once.
 */
function useDirectGuards(route: RouteOptions): void {
  const swap = (hook: unknown): unknown => (hook as Partial<Tagged> | undefined)?.[DIRECT] ?? hook
  const hooks = route as unknown as Record<'onRequest' | 'preValidation' | 'preHandler', unknown>
  for (const name of ['onRequest', 'preValidation', 'preHandler'] as const) {
    const value = hooks[name]
    if (value !== undefined) hooks[name] = Array.isArray(value) ? value.map(swap) : swap(value)
  }
}

/** The option names the plugin takes besides the verifier's. */
const ADAPTER_OPTION_NAMES: readonly (keyof FastifyJwtAuthOptions)[] = [
  'getToken',
  'respond',
  'required',
  'skip',
  'getClientCertificate',
  'origin',
  'waitForKeys',
]
const OPTION_NAMES = new Set<string>([...VERIFIER_OPTION_NAMES, ...ADAPTER_OPTION_NAMES])

/** The `waitForKeys` option as `ready()` options, or `undefined` when off. */
function readyOptionsOf(value: unknown): ReadyOptions | undefined {
  if (value === false) return undefined
  if (value === true) return {}
  if (typeof value === 'object' && value !== null) {
    checkOptionNames(value, ['timeout'], 'waitForKeys')
    const { timeout } = value as { timeout?: unknown }
    if (timeout === undefined) return {}
    if (typeof timeout === 'number' && Number.isSafeInteger(timeout) && timeout > 0) {
      return { timeout }
    }
    throw optionError('waitForKeys.timeout', 'must be an integer number of milliseconds > 0')
  }
  throw optionError('waitForKeys', 'must be a boolean or { timeout }')
}

const plugin: FastifyPluginAsync<FastifyJwtAuthOptions> = async (fastify, options) => {
  // A misspelt option (`respnd: false`) must not leave its setting at the default in silence.
  checkOptionNames(options, OPTION_NAMES)
  const {
    getToken,
    respond = true,
    required = false,
    skip,
    getClientCertificate,
    origin,
    waitForKeys = false,
    ...verifierOptions
  } = options
  checkOriginOption(origin, verifierOptions.dpop !== undefined)
  if (getToken !== undefined && typeof getToken !== 'function') {
    throw optionError('getToken', 'must be a function')
  }
  if (getClientCertificate !== undefined && typeof getClientCertificate !== 'function') {
    throw optionError('getClientCertificate', 'must be a function')
  }
  if (typeof respond !== 'boolean') throw optionError('respond', 'must be a boolean')
  if (typeof required !== 'boolean') throw optionError('required', 'must be a boolean')
  if (skip !== undefined && typeof skip !== 'function') {
    throw optionError('skip', 'must be a function')
  }
  const readyOptions = readyOptionsOf(waitForKeys)
  const instance = fastify as Scoped
  if (Object.hasOwn(instance, SCOPE)) {
    throw new Error(
      'trustgate: @trustgate/fastify is registered twice in the same context. To give some ' +
        'routes other options, register the second one inside their own context: ' +
        'app.register(async (child) => { await child.register(jwtAuth, options); child.get(...) })',
    )
  }
  // `logger: undefined` (e.g. from a config file) still means the app's logger, not pino's default.
  const verifier = createVerifier({
    ...verifierOptions,
    logger: verifierOptions.logger ?? fastify.log,
  })
  const scope: Scope = {
    verifier,
    respond,
    required,
    authenticated: createGuard({ kind: 'authenticated' }, verifier.errors),
  }
  instance[SCOPE] = scope

  // Decorators once per context chain: a nested registration's routes find their own scope
  // through `request.server`, so the parent's (identical) guards serve them too.
  if (!fastify.hasRequestDecorator('principal')) fastify.decorateRequest('principal', null)
  fastify.decorate('trustgate', verifier)
  if (!fastify.hasDecorator('authenticate')) {
    // Fastify calls the guard with `done`, which takes the overload that returns no promise.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    fastify.decorate('authenticate', authenticate)
    fastify.decorate('requireScopes', requireScopes)
    fastify.decorate('requireAnyScope', requireAnyScope)
    fastify.decorate('requirePrincipal', requirePrincipal)
  }

  // RFC 9728 s3.1: the document lives at a fixed path from the host's root.
  const metadata = verifier.resourceMetadata
  if (metadata !== undefined) {
    if (fastify.prefix !== '') {
      throw new Error(
        `trustgate: resourceMetadata is served at ${metadata.path}, from the root, and this ` +
          `context adds the prefix ${fastify.prefix}: register jwtAuth in an unprefixed context, ` +
          'or serve app.trustgate.resourceMetadata.document on that path yourself',
      )
    }
    // Public even with `required: true`: a client that has no token yet needs it most.
    fastify.get(
      metadata.path,
      { config: { trustgate: { required: false } } },
      async (_request, reply) => reply.type('application/json').send(metadata.document),
    )
  }

  // Readiness the Fastify way: `app.ready()` resolves only once the keys are loaded.
  if (readyOptions !== undefined) {
    fastify.addHook('onReady', async function trustgateWaitForKeys() {
      await verifier.ready(readyOptions)
    })
  }

  fastify.addHook('onRoute', function trustgateRoute(route) {
    useDirectGuards(route)
    // With @fastify/swagger, guarded routes document their security and 401/403 by themselves.
    if (this.hasPlugin('@fastify/swagger')) {
      markRoute(route, guardsOf(route), ((this as Scoped)[SCOPE] ?? scope).respond)
    }
  })
  fastify.addHook('onReady', function trustgateSwagger(done) {
    if (fastify.hasPlugin('@fastify/swagger')) wrapSwagger(fastify)
    done()
  })

  function optedOut(request: FastifyRequest): boolean {
    return request.routeOptions.config.trustgate?.required === false
  }

  // Callback style, and synchronous when the answer is known at once (no token, a token in the
  // verified-token cache, or one verified with keys at hand): the common request costs no promise. `onRequest` runs before the
  // body is parsed, so a refused request is not read.
  fastify.addHook('onRequest', function trustgateAuthenticate(request, reply, done) {
    // Under a nested registration, only the nearest one verifies: its audience, its issuers.
    if (scopeOf(request) !== scope) {
      done()
      return
    }
    // `done` is called outside the try, so that nothing after it can make it run twice.
    let outcome: Principal | null | undefined | Promise<Principal | null> | typeof SKIPPED
    try {
      if (skip?.(request) === true) {
        outcome = SKIPPED
      } else if (getToken === undefined) {
        const context = new LogContext(request, getClientCertificate, origin)
        outcome = verifier.authenticateNow(authorizationValues(request.raw.rawHeaders), context)
      } else {
        const token = getToken(request)
        outcome =
          token === null || token === undefined
            ? null
            : verifier.verify(token, new LogContext(request, getClientCertificate, origin))
      }
      if (outcome === null && required && !optedOut(request)) {
        throw verifier.errors.missingToken()
      }
      if (outcome === SKIPPED) outcome = null
    } catch (error) {
      refuse(scope, reply, done, error)
      return
    }
    if (!(outcome instanceof Promise)) {
      request.principal = outcome
      done()
      return
    }
    outcome.then(
      (principal) => {
        if (principal === null && required && !optedOut(request)) {
          refuse(scope, reply, done, verifier.errors.missingToken())
          return
        }
        request.principal = principal
        done()
      },
      (error: unknown) => {
        refuse(scope, reply, done, error)
      },
    )
  })
}

/** What the core may read of a request, each read only if a check or a log line needs it. */
class LogContext {
  readonly #request: FastifyRequest
  readonly #getClientCertificate: FastifyJwtAuthOptions['getClientCertificate']
  readonly #origin: FastifyJwtAuthOptions['origin']
  constructor(
    request: FastifyRequest,
    getClientCertificate: FastifyJwtAuthOptions['getClientCertificate'],
    origin: FastifyJwtAuthOptions['origin'],
  ) {
    this.#request = request
    this.#getClientCertificate = getClientCertificate
    this.#origin = origin
  }
  get method(): string | undefined {
    return this.#request.raw.method
  }
  // DPoP's htu: the configured origin and the request line's own target (`originalUrl`, before
  // any rewriteUrl), never the Host header.
  get url(): string | undefined {
    const origin = typeof this.#origin === 'function' ? this.#origin(this.#request) : this.#origin
    return requestUrl(origin, this.#request.originalUrl)
  }
  get dpop(): string[] {
    return dpopValues(this.#request.raw.rawHeaders)
  }
  // One source, chosen by configuration: the forwarded one, or the socket's. Never one, then the
  // other, which would let a client pick the certificate that suits it.
  get clientCertificate(): ClientCertificate | null | undefined {
    const read = this.#getClientCertificate
    return read === undefined ? peerCertificate(this.#request.raw.socket) : read(this.#request)
  }
  get reqId(): string {
    return this.#request.id
  }
  get remoteAddress(): string {
    return this.#request.ip
  }
}

/**
 * `app.register(jwtAuth, options)`: JWT bearer authentication for the app, or, registered inside
 * an encapsulated context, for that sub-tree of routes. A registration in a child context with
 * other options (another audience, say) takes over that sub-tree from the one above it.
 */
export const jwtAuth = fp(plugin, { name: '@trustgate/fastify', fastify: '5.x' })

export default jwtAuth

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
export type { FastifyInstance }
