/**
 * Which `jwtAuth()` saw a request, for the guards (they need its realm and its `respond` choice),
 * and how a refused request ends: trustgate's own answer, or `next(err)`. Shared by the
 * middleware and the guards, so that both refuse alike.
 */
import { isAuthError, type Verifier } from '@trustgate/core'
import type { NextFunction, Request, Response } from 'express'

/** What one `jwtAuth()` decided: its verifier and whether it answers refusals itself. */
export interface State {
  readonly verifier: Verifier
  readonly respond: boolean
}

// The jwtAuth() that saw each request, for the guards (see the middleware on why not a property).
export const STATES: WeakMap<Request, State> = new WeakMap()

/**
 * Ends a refused request: our answer with `respond`, `next(err)` otherwise. Never throws: an
 * error that only looks like an AuthError (and so cannot be answered) goes to `next` as a 500,
 * rather than becoming an unhandled rejection and a request that never gets an answer.
 */
export function fail(state: State, error: unknown, res: Response, next: NextFunction): void {
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
