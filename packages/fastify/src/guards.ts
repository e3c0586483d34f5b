/**
 * The route guards (`authenticate`, `requireScopes(...)`, `requireAnyScope(...)`,
 * `requirePrincipal(rule)`): importable values that work on any route, each checking a request
 * with the scope of the registration above it. One guard has two forms: the callback form for
 * `@fastify/auth` and `await` hands a refusal on, and the direct form, swapped in for it among a
 * route's own hooks, answers it with the scope's `respond`. Outside every registration a guard
 * fails closed (a 500), never leaving the route open.
 */
import {
  checkScopeArguments,
  checkScopeList,
  configError,
  createGuard,
  type Guard,
  type Principal,
  type Requirement,
} from '@trustgate/core'
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { asError, refuse, scopeOf, type Done, type Scope } from './scope.js'
import type { AuthGuard } from './types.js'

// The requirement of a guard, read by the OpenAPI support.
const REQUIREMENT = Symbol('trustgate.requirement')
// The variant of a guard that answers a refusal itself; see useDirectGuards.
const DIRECT = Symbol('trustgate.direct')

type DirectGuard = ((request: FastifyRequest, reply: FastifyReply, done: Done) => void) & {
  [REQUIREMENT]: Requirement
}
type Tagged = AuthGuard & { [REQUIREMENT]: Requirement; [DIRECT]: DirectGuard }

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
  if (typeof test !== 'function') throw configError('requirePrincipal()', 'needs a function')
  return makeGuard({ kind: 'predicate', test }, 'requirePrincipal')
}

/** The trustgate guards among a route's hooks, for OpenAPI. */
export function guardsOf(route: RouteOptions): Requirement[] {
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
export function useDirectGuards(route: RouteOptions): void {
  const swap = (hook: unknown): unknown => (hook as Partial<Tagged> | undefined)?.[DIRECT] ?? hook
  const hooks = route as unknown as Record<'onRequest' | 'preValidation' | 'preHandler', unknown>
  for (const name of ['onRequest', 'preValidation', 'preHandler'] as const) {
    const value = hooks[name]
    if (value !== undefined) hooks[name] = Array.isArray(value) ? value.map(swap) : swap(value)
  }
}
