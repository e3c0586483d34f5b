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
  type AuthError,
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
}

/**
 * A route-level `preHandler` of trustgate. It declares no `this` and takes the plainest request
 * and reply, so that it fits the routes of any instance: one with its own logger type (pino's
 * `loggerInstance`), a type provider, or route generics. Fastify's `AuthGuard`
 * would bind it to the default logger type and refuse those routes.
 */
export type AuthGuard = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

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
  const { getToken, respond = true, ...verifierOptions } = options
  if (getToken !== undefined && typeof getToken !== 'function') {
    throw new TypeError('getToken must be a function')
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

  function guard(check: Guard): AuthGuard {
    return async function trustgateGuard(request, reply) {
      try {
        await check(request.principal)
      } catch (error) {
        if (respond && isAuthError(error)) return fail(reply, error)
        throw error
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

  fastify.addHook('onRequest', async function trustgateAuthenticate(request, reply) {
    const context = { reqId: request.id, remoteAddress: request.ip }
    try {
      if (getToken === undefined) {
        request.principal = await verifier.authenticate(
          authorizationValues(request.raw.rawHeaders),
          context,
        )
      } else {
        const token = getToken(request)
        request.principal =
          token === null || token === undefined ? null : await verifier.verify(token, context)
      }
    } catch (error) {
      if (respond && isAuthError(error)) return fail(reply, error)
      throw error
    }
  })
}

/**
 * `app.register(jwtAuth, options)`: JWT bearer authentication for the app, or, registered inside
 * an encapsulated context, for that sub-tree of routes.
 */
export const jwtAuth = fp(plugin, { name: '@trustgate/fastify', fastify: '5.x' })

export default jwtAuth

export type {
  AuthError,
  AuthErrorCode,
  AuthErrorReason,
  IssuerConfig,
  Principal,
  VerifierOptions,
} from '@trustgate/core'
export type { FastifyInstance }
