/**
 * Type tests of `Principal<Claims>` (API.md "Principal"): the claims are `Record<string, unknown>`
 * by default, and an app narrows them to the shape it expects with a type guard that checks it.
 */
import { describe, expectTypeOf, it } from 'vitest'
import type { Principal } from '../src/principal.js'
import { createErrorFactory } from '../src/errors.js'
import { createGuard } from '../src/guards.js'
import type { ClaimRule, IssuerConfig } from '../src/index.js'

interface Roles {
  roles: string[]
}

/** The guard an app writes: it looks at the claim before it promises its type. */
function hasRoles(principal: Principal): principal is Principal<Roles> {
  const { roles } = principal.claims
  return Array.isArray(roles) && roles.every((role) => typeof role === 'string')
}

describe('Principal<Claims>', () => {
  it('types claims as unknown values by default', () => {
    expectTypeOf<Principal['claims']>().toEqualTypeOf<Readonly<Record<string, unknown>>>()
    expectTypeOf<Principal['claims']['roles']>().toEqualTypeOf<unknown>()
  })

  it('narrows the claims in a guard, so that roles.includes() compiles', () => {
    const check = (principal: Principal): boolean => {
      // @ts-expect-error: unknown until narrowed
      principal.claims.roles.includes('admin')
      if (!hasRoles(principal)) return false
      expectTypeOf(principal).toEqualTypeOf<Principal<Roles>>()
      expectTypeOf(principal.claims.roles).toEqualTypeOf<string[]>()
      return principal.claims.roles.includes('admin')
    }
    expectTypeOf(check).returns.toEqualTypeOf<boolean>()
  })

  it('narrows inside a requirePrincipal-style predicate guard, as the adapters take it', () => {
    const guard = createGuard(
      { kind: 'predicate', test: (p) => hasRoles(p) && p.claims.roles.includes('admin') },
      createErrorFactory(),
    )
    expectTypeOf(guard).parameter(0).toEqualTypeOf<Principal | null>()
  })

  it('keeps a narrowed principal usable where a plain one is expected', () => {
    expectTypeOf<Principal<Roles>>().toMatchTypeOf<Principal>()
    expectTypeOf<Principal<Roles>['key']>().toEqualTypeOf<string>()
    // The claims stay read-only.
    expectTypeOf<Principal<Roles>['claims']>().toEqualTypeOf<Readonly<Roles>>()
  })

  it('types issuer-level claim rules and the new issuer fields', () => {
    expectTypeOf<(value: unknown) => boolean>().toMatchTypeOf<ClaimRule>()
    expectTypeOf<['a', 'b']>().toMatchTypeOf<ClaimRule>()
    expectTypeOf<IssuerConfig['audience']>().toEqualTypeOf<string | readonly string[] | null>()
    expectTypeOf<IssuerConfig['issuer']>().toEqualTypeOf<string | readonly string[]>()
  })
})
