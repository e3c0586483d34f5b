/**
 * The Fastify plugin: one registration builds a verifier and a scope, adds the decorators, the
 * metadata route and the route hooks, and verifies the bearer token of every request of its scope
 * in an `onRequest` hook (before the body is parsed), setting `request.principal`.
 */
import { authorizationValues, createGuard, createVerifier, type Principal } from '@trustgate/core'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { LogContext } from './context.js'
import {
  authenticate,
  guardsOf,
  requireAnyScope,
  requirePrincipal,
  requireScopes,
  useDirectGuards,
} from './guards.js'
import { serveResourceMetadata } from './metadata.js'
import { markRoute, wrapSwagger } from './openapi.js'
import { readOptions } from './options.js'
import { refuse, SCOPE, scopeOf, type Scope, type Scoped } from './scope.js'
import type { FastifyJwtAuthOptions } from './types.js'

// A request that `skip` picked: no principal, and `required` does not apply.
const SKIPPED = Symbol('skipped')

const plugin: FastifyPluginAsync<FastifyJwtAuthOptions> = async (fastify, options) => {
  const {
    getToken,
    respond,
    required,
    skip,
    getClientCertificate,
    origin,
    readyOptions,
    verifierOptions,
  } = readOptions(options)
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

  serveResourceMetadata(fastify, verifier)

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
  // verified-token cache, or one verified with keys at hand): the common request costs no promise.
  // `onRequest` runs before the body is parsed, so a refused request is not read.
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
        const context = new LogContext(request, request.raw, getClientCertificate, origin)
        outcome = verifier.authenticateNow(authorizationValues(request.raw.rawHeaders), context)
      } else {
        const token = getToken(request)
        outcome =
          token === null || token === undefined
            ? null
            : verifier.verify(
                token,
                new LogContext(request, request.raw, getClientCertificate, origin),
              )
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

/**
 * `app.register(jwtAuth, options)`: JWT bearer authentication for the app, or, registered inside
 * an encapsulated context, for that sub-tree of routes. A registration in a child context with
 * other options (another audience, say) takes over that sub-tree from the one above it.
 */
export const jwtAuth = fp(plugin, { name: '@trustgate/fastify', fastify: '5.x' })
