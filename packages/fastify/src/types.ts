/**
 * The public types of the Fastify plugin: its options, the guard type, the route config it reads,
 * and the augmentation of Fastify's own types (`request.principal`, the decorators). The barrel
 * re-exports from here, so that importing the package brings the augmentation in.
 */
import type { ClientCertificate, Principal, Verifier, VerifierOptions } from '@trustgate/core'
import type { FastifyReply, FastifyRequest } from 'fastify'

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
