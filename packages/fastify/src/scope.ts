/**
 * What one registration of the plugin decided (its verifier and answers), where a request finds
 * it, and how a refused request ends: trustgate's own answer, or the framework's error path.
 * Shared by the `onRequest` hook and the route guards, so that both refuse alike.
 */
import { isAuthError, type AuthError, type Guard, type Verifier } from '@trustgate/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** What one registration of the plugin decided: the verifier and the answers of its scope. */
export interface Scope {
  readonly verifier: Verifier
  readonly respond: boolean
  readonly required: boolean
  /** Built once per scope: the hot `authenticate` guard needs no lookup. */
  readonly authenticated: Guard
}

// The scope of a registration is kept on the Fastify instance it was registered on. Child
// contexts are made with Object.create(parent), so a route's `request.server` finds the scope of
// the nearest registration above it through the prototype chain, and nothing when none exists.
export const SCOPE = Symbol('trustgate.scope')

export type Scoped = FastifyInstance & { [SCOPE]?: Scope }
export type Done = (error?: Error) => void

/** The scope of the nearest registration above the request's route, if any. */
export function scopeOf(request: FastifyRequest): Scope | undefined {
  return (request.server as Scoped)[SCOPE]
}

/** An error for the framework: a 500 unless it says otherwise. Never a thrown non-Error. */
export function asError(error: unknown): Error {
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
export function refuse(
  scope: Scope,
  reply: FastifyReply,
  done: (error?: Error) => void,
  error: unknown,
) {
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
