import { describe, expect, it } from 'vitest'
import { createErrorFactory } from '../src/errors.js'
import { checkScopeList, createGuard } from '../src/guards.js'
import { createPrincipal, type Principal } from '../src/principal.js'
import { rejectionOf, type AuthErrorShape } from '../../../test/helpers/auth-error.js'

const errors = createErrorFactory('api')
const principal: Principal = createPrincipal({
  iss: 'https://issuer.test',
  sub: 'alice',
  aud: 'api',
  scope: 'orders:read profile',
})

async function failure(run: () => unknown): Promise<AuthErrorShape> {
  return (await rejectionOf(Promise.resolve().then(run))) as AuthErrorShape
}

describe('authenticated guard', () => {
  const guard = createGuard({ kind: 'authenticated' }, errors)

  it('lets a principal pass', async () => {
    await expect(Promise.resolve(guard(principal))).resolves.toBeUndefined()
  })

  it('answers no principal with missing_token 401', async () => {
    const error = await failure(() => guard(null))
    expect([error.code, error.reason, error.status]).toEqual([
      'missing_token',
      'missing_token',
      401,
    ])
    expect(error.headers['WWW-Authenticate']).toBe('Bearer realm="api"')
  })
})

describe('scopes guard', () => {
  it('requires all scopes in all-of mode', async () => {
    const guard = createGuard(
      { kind: 'scopes', scopes: ['orders:read', 'profile'], mode: 'all' },
      errors,
    )
    expect(guard(principal)).toBeUndefined()
    const strict = createGuard(
      { kind: 'scopes', scopes: ['orders:read', 'orders:write'], mode: 'all' },
      errors,
    )
    const error = await failure(() => strict(principal))
    expect([error.code, error.reason, error.status]).toEqual([
      'insufficient_scope',
      'insufficient_scope',
      403,
    ])
    expect(error.headers['WWW-Authenticate']).toContain('scope="orders:read orders:write"')
  })

  it('requires one scope in any-of mode', async () => {
    const guard = createGuard(
      { kind: 'scopes', scopes: ['orders:write', 'profile'], mode: 'any' },
      errors,
    )
    expect(guard(principal)).toBeUndefined()
    const none = createGuard(
      { kind: 'scopes', scopes: ['admin', 'orders:write'], mode: 'any' },
      errors,
    )
    const error = await failure(() => none(principal))
    expect(error.code).toBe('insufficient_scope')
    expect(error.headers['WWW-Authenticate']).toContain('scope="admin orders:write"')
  })

  it('answers no principal with missing_token', async () => {
    const guard = createGuard({ kind: 'scopes', scopes: ['profile'], mode: 'all' }, errors)
    expect((await failure(() => guard(null))).code).toBe('missing_token')
  })

  it('validates the scope list when it is created', () => {
    expect(() => createGuard({ kind: 'scopes', scopes: [], mode: 'all' }, errors)).toThrow(
      TypeError,
    )
    expect(() =>
      createGuard({ kind: 'scopes', scopes: ['ok', 'a b'], mode: 'all' }, errors),
    ).toThrow(/scopes\[1\]/)
    expect(() => createGuard({ kind: 'scopes', scopes: ['a"b'], mode: 'any' }, errors)).toThrow(
      TypeError,
    )
    expect(() =>
      createGuard({ kind: 'scopes', scopes: [42 as unknown as string], mode: 'any' }, errors),
    ).toThrow(/scopes\[0\]/)
  })
})

describe('predicate guard', () => {
  it('lets the principal pass when the predicate returns true, also asynchronously', async () => {
    await createGuard({ kind: 'predicate', test: (p) => p.subject === 'alice' }, errors)(principal)
    await createGuard(
      { kind: 'predicate', test: async () => Promise.resolve(true) },
      errors,
    )(principal)
  })

  it('answers a false or truthy-but-not-true predicate with 403 forbidden', async () => {
    for (const test of [
      () => false,
      () => 1 as unknown as boolean,
      async () => Promise.resolve(false),
    ]) {
      const guard = createGuard({ kind: 'predicate', test }, errors)
      const error = await failure(() => guard(principal))
      expect([error.code, error.reason, error.status]).toEqual([
        'insufficient_scope',
        'forbidden',
        403,
      ])
      expect(error.headers['WWW-Authenticate']).not.toContain('scope=')
    }
  })

  it('answers no principal with missing_token without calling the predicate', async () => {
    let called = false
    const guard = createGuard({ kind: 'predicate', test: () => (called = true) }, errors)
    expect((await failure(() => guard(null))).code).toBe('missing_token')
    expect(called).toBe(false)
  })

  it('refuses a predicate that is not a function', () => {
    expect(() => createGuard({ kind: 'predicate', test: 'yes' as never }, errors)).toThrow(
      TypeError,
    )
  })
})

describe('checkScopeList', () => {
  it('returns a frozen copy of a valid list and names the field of a bad one', () => {
    const list = checkScopeList(['a', 'b'], 'requireScopes')
    expect(list).toEqual(['a', 'b'])
    expect(Object.isFrozen(list)).toBe(true)
    expect(() => checkScopeList([], 'requireScopes')).toThrow(
      /requireScopes needs at least one scope/,
    )
    expect(() => checkScopeList(['a', ''], 'requireScopes')).toThrow(/requireScopes\[1\]/)
  })
})
