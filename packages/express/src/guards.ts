/**
 * The route guards (`requireAuth()`, `requireScopes(...)`, `requireAnyScope(...)`,
 * `requirePrincipal(rule)`): each checks a request with the errors (the realm) and the `respond`
 * choice of the `jwtAuth()` that saw it, and fails closed (a 500) on a request none saw.
 */
import {
  checkScopeArguments,
  checkScopeList,
  createGuard,
  type Guard,
  type Principal,
  type Requirement,
} from '@trustgate/core'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { fail, STATES, type State } from './state.js'

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
