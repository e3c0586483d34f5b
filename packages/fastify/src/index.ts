/**
 * The Fastify plugin: verifies the bearer token of every request in an `onRequest` hook (before
 * the body is parsed), sets `request.principal`, and offers route-level `preHandler` guards.
 * All token logic lives in `@trustgate/core`; this file only translates.
 */
import {
  authorizationValues,
  createGuard,
  createVerifier,
  isAuthError,
  peerCertificate,
  type AuthError,
  type ClientCertificate,
  type Guard,
  type Principal,
  type Verifier,
  type VerifierOptions,
} from '@trustgate/core'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

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
   * The client certificate of a request, for certificate-bound tokens (RFC 8705), when a proxy in
   * front terminates TLS: `forwardedCertificate({ format, trustedProxies })`. Without it, the
   * certificate is the TLS peer certificate of the request's own socket, and no header is read.
   */
  getClientCertificate?: (request: FastifyRequest) => ClientCertificate | null | undefined
}

/**
 * A route-level `preHandler` of trustgate. It declares no `this` and takes the plainest request
 * and reply, so that it fits the routes of any instance: one with its own logger type (pino's
 * `loggerInstance`), a type provider, or route generics. Fastify's `preHandlerHookHandler` would
 * bind it to the default logger type and refuse those routes. It is a callback-style hook: a
 * guard that can decide at once costs no promise.
 */
export type AuthGuard = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: (error?: Error) => void,
) => void

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller, or `null` when the request carried no token. */
    principal: Principal | null
  }
  interface FastifyInstance {
    /** A `preHandler` that requires a principal (401 `missing_token` without one). */
    authenticate: AuthGuard
    /** A `preHandler` that requires every one of `scopes` (403 `insufficient_scope`). */
    requireScopes(...scopes: string[]): AuthGuard
    /** A `preHandler` that requires at least one of `scopes` (403 `insufficient_scope`). */
    requireAnyScope(...scopes: string[]): AuthGuard
    /**
     * A `preHandler` from a rule over the principal, such as a tenant or role claim; a principal
     * the rule refuses gets 403 `insufficient_scope` with reason `forbidden`.
     */
    requirePrincipal(test: (principal: Principal) => boolean | Promise<boolean>): AuthGuard
    /** The verifier behind the plugin, for tokens that do not come with a request. */
    trustgate: Verifier
  }
}

const plugin: FastifyPluginAsync<FastifyJwtAuthOptions> = async (fastify, options) => {
  const { getToken, respond = true, getClientCertificate, ...verifierOptions } = options
  if (getToken !== undefined && typeof getToken !== 'function') {
    throw new TypeError('getToken must be a function')
  }
  if (getClientCertificate !== undefined && typeof getClientCertificate !== 'function') {
    throw new TypeError('getClientCertificate must be a function')
  }
  if (typeof respond !== 'boolean') throw new TypeError('respond must be a boolean')
  // `logger: undefined` (e.g. from a config file) still means the app's logger, not pino's default.
  const verifier = createVerifier({
    ...verifierOptions,
    logger: verifierOptions.logger ?? fastify.log,
  })

  // Answers with our body rather than Fastify's default `{ statusCode, code, error, message }`.
  function fail(reply: FastifyReply, error: AuthError): FastifyReply {
    return reply.code(error.statusCode).headers(error.headers).send(error.toJSON())
  }

  // An AuthError becomes our response, or, with `respond: false`, goes to the app's error handler;
  // any other error goes to the error handler as it is (a 500).
  function failure(reply: FastifyReply, done: (error?: Error) => void): (error: unknown) => void {
    return (error) => {
      if (respond && isAuthError(error)) fail(reply, error)
      else done(error instanceof Error ? error : new Error('trustgate failed'))
    }
  }

  function guard(check: Guard): AuthGuard {
    return function trustgateGuard(request, reply, done) {
      let result: void | Promise<void>
      try {
        result = check(request.principal)
      } catch (error) {
        failure(reply, done)(error)
        return
      }
      if (result instanceof Promise) {
        result.then(
          () => {
            done()
          },
          failure(reply, done),
        )
      } else {
        done()
      }
    }
  }

  fastify.decorateRequest('principal', null)
  fastify.decorate('trustgate', verifier)
  fastify.decorate('authenticate', guard(createGuard({ kind: 'authenticated' }, verifier.errors)))
  fastify.decorate('requireScopes', (...scopes: string[]) =>
    guard(createGuard({ kind: 'scopes', scopes, mode: 'all' }, verifier.errors)),
  )
  fastify.decorate('requireAnyScope', (...scopes: string[]) =>
    guard(createGuard({ kind: 'scopes', scopes, mode: 'any' }, verifier.errors)),
  )
  fastify.decorate(
    'requirePrincipal',
    (test: (principal: Principal) => boolean | Promise<boolean>) =>
      guard(createGuard({ kind: 'predicate', test }, verifier.errors)),
  )

  // Callback style, and synchronous when the answer is known at once (no token, or a token in
  // the verified-token cache): the common request costs no promise. `onRequest` runs before the
  // body is parsed, so a refused request is not read.
  fastify.addHook('onRequest', function trustgateAuthenticate(request, reply, done) {
    // `done` is called outside the try, so that nothing after it can make it run twice.
    let outcome: Principal | null | undefined | Promise<Principal | null>
    try {
      const context = new LogContext(request, getClientCertificate)
      if (getToken === undefined) {
        const values = authorizationValues(request.raw.rawHeaders)
        outcome = verifier.authenticateCached(values, context)
        if (outcome === undefined) outcome = verifier.authenticate(values, context)
      } else {
        const token = getToken(request)
        outcome = token === null || token === undefined ? null : verifier.verify(token, context)
      }
    } catch (error) {
      failure(reply, done)(error)
      return
    }
    if (!(outcome instanceof Promise)) {
      request.principal = outcome
      done()
      return
    }
    outcome.then(
      (principal) => {
        request.principal = principal
        done()
      },
      failure(reply, done),
    )
  })
}

/** What the core may read of a request, each read only if a check or a log line needs it. */
class LogContext {
  readonly #request: FastifyRequest
  readonly #getClientCertificate: FastifyJwtAuthOptions['getClientCertificate']
  constructor(
    request: FastifyRequest,
    getClientCertificate: FastifyJwtAuthOptions['getClientCertificate'],
  ) {
    this.#request = request
    this.#getClientCertificate = getClientCertificate
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
 * an encapsulated context, for that sub-tree of routes.
 */
export const jwtAuth = fp(plugin, { name: '@trustgate/fastify', fastify: '5.x' })

export default jwtAuth

export { forwardedCertificate } from '@trustgate/core'
export type {
  AuthError,
  AuthErrorCode,
  AuthErrorReason,
  IssuerConfig,
  Principal,
  VerifierOptions,
} from '@trustgate/core'
export type { FastifyInstance }
