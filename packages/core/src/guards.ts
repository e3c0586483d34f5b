/**
 * Authorization rules for route guards, shared by both adapters so that they behave alike.
 * A guard throws `missing_token` (401) without a principal and `insufficient_scope` (403) when the
 * principal lacks what the route needs.
 */
import { isScopeToken, type ErrorFactory } from './errors.js'
import { fail } from './options.js'
import type { Principal } from './principal.js'

/** What a guarded route needs. */
export type Requirement =
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'scopes'; readonly scopes: readonly string[]; readonly mode: 'all' | 'any' }
  | {
      readonly kind: 'predicate'
      readonly test: (principal: Principal) => boolean | Promise<boolean>
    }

/** A guard: resolves when the principal may pass, throws an `AuthError` otherwise. */
export type Guard = (principal: Principal | null) => void | Promise<void>

/** Checks the scopes given to a guard at start-up, so that a challenge never carries bad bytes. */
export function checkScopeList(scopes: readonly unknown[], field: string): readonly string[] {
  if (scopes.length === 0) fail(field, 'needs at least one scope')
  for (const [i, scope] of scopes.entries()) {
    if (typeof scope !== 'string' || !isScopeToken(scope)) {
      fail(`${field}[${String(i)}]`, 'must be a scope token (RFC 6750 s3)')
    }
  }
  return Object.freeze([...(scopes as string[])])
}

/**
 * Refuses the two spellings of a scope list that look right and mean something else:
 * `requireScopes(['a', 'b'])` and `requireScopes('a b')`. The message shows the call to write.
 * `name` is the guard factory's name, as the user typed it.
 */
export function checkScopeArguments(scopes: readonly unknown[], name: string): void {
  const [first] = scopes
  if (!Array.isArray(first) && !(typeof first === 'string' && /\s/.test(first))) return
  const list = (Array.isArray(first) ? (first as unknown[]) : first.trim().split(/\s+/))
    .map((scope) => `'${String(scope)}'`)
    .join(', ')
  throw new TypeError(
    `trustgate: ${name}() takes each scope as its own argument: use ${name}(${list}), not an ` +
      'array or a space-separated string',
  )
}

/** Builds the guard for a requirement. Validates it now, not at request time. */
export function createGuard(requirement: Requirement, errors: ErrorFactory): Guard {
  switch (requirement.kind) {
    case 'authenticated':
      return (principal) => {
        if (principal === null) throw errors.missingToken()
      }
    case 'scopes': {
      const scopes = checkScopeList(requirement.scopes, 'scopes')
      const all = requirement.mode === 'all'
      return (principal) => {
        if (principal === null) throw errors.missingToken()
        let held = 0
        for (const scope of scopes) if (principal.scopes.includes(scope)) held++
        if (all ? held < scopes.length : held === 0) throw errors.insufficientScope(scopes)
      }
    }
    case 'predicate': {
      const { test } = requirement
      if (typeof test !== 'function') fail('predicate', 'must be a function')
      return async (principal) => {
        if (principal === null) throw errors.missingToken()
        if (((await test(principal)) as unknown) !== true)
          throw errors.insufficientScope([], 'forbidden')
      }
    }
  }
}
