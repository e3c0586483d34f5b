/**
 * The Express middleware: `jwtAuth(options)` verifies the bearer token of every request and sets
 * `req.principal`, serves the RFC 9728 metadata document when there is one, and records itself
 * for the guards. Failures go to `next(err)` as an `AuthError` carrying `status` and `headers`,
 * which Express's own error handler already turns into the right response.
 */
import { authorizationValues, createVerifier, type Principal } from '@trustgate/core'
import type { NextFunction, Request, Response } from 'express'
import { LogContext } from './context.js'
import { readOptions } from './options.js'
import { fail, STATES, type State } from './state.js'
import type { ExpressJwtAuthOptions, JwtAuthMiddleware } from './types.js'

// A request that `skip` picked: no principal, and `required` does not apply.
const SKIPPED = Symbol('skipped')

/** `app.use(jwtAuth(options))`: verifies the bearer token of every request. */
export function jwtAuth(options: ExpressJwtAuthOptions): JwtAuthMiddleware {
  const { getToken, respond, required, skip, getClientCertificate, origin, verifierOptions } =
    readOptions(options)
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
        const context = new LogContext(req, req, getClientCertificate, origin)
        outcome = verifier.authenticateNow(authorizationValues(req.rawHeaders), context)
      } else {
        const token = getToken(req)
        outcome =
          token === null || token === undefined
            ? null
            : verifier.verify(token, new LogContext(req, req, getClientCertificate, origin))
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
