import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createPrincipal, principalKey } from '../src/principal.js'

const base = { iss: 'https://issuer.test', sub: 'alice', aud: 'api', exp: 2_000_000_000 }

describe('principalKey', () => {
  it('gives different keys to ("a|b", "c") and ("a", "b|c")', () => {
    expect(principalKey('a|b', 'c')).not.toBe(principalKey('a', 'b|c'))
  })

  it('gives different keys when backslashes and separators could be confused', () => {
    const pairs: [string, string][] = [
      ['a\\', '|b'],
      ['a\\|', 'b'],
      ['a', '\\|b'],
      ['a\\\\', 'b'],
      ['a', '\\\\b'],
      ['a\\', 'b'],
      ['a', '\\b'],
      ['', 'a|b'],
      ['a|b', ''],
      ['a|', 'b'],
      ['a', '|b'],
      // Escaping only the separator would give both of these 'a\\|b\\|c'.
      ['a|b\\', 'c'],
      ['a\\', 'b|c'],
    ]
    const keys = pairs.map(([iss, sub]) => principalKey(iss, sub))
    expect(new Set(keys).size).toBe(pairs.length)
  })

  it('never gives two different pairs the same key, whatever characters they hold', () => {
    const part = fc.string({ unit: fc.constantFrom('a', '|', '\\'), maxLength: 5 })
    // Every other pair that a reader of the key could take it for: split it at any '|' and undo
    // any escape. None of them may have the same key.
    const readings = (key: string): [string, string][] => {
      const unescape = (text: string): string => text.replace(/\\(.)/gs, '$1')
      const pairs: [string, string][] = []
      for (let i = key.indexOf('|'); i !== -1; i = key.indexOf('|', i + 1)) {
        pairs.push([unescape(key.slice(0, i)), unescape(key.slice(i + 1))])
      }
      return pairs
    }
    fc.assert(
      fc.property(part, part, part, part, (a, b, c, d) => {
        if (a !== c || b !== d) expect(principalKey(a, b)).not.toBe(principalKey(c, d))
        const key = principalKey(a, b)
        for (const [x, y] of readings(key)) {
          if (x !== a || y !== b) expect(principalKey(x, y)).not.toBe(key)
        }
      }),
      { numRuns: 3000 },
    )
  })

  it('is stable for the same pair', () => {
    expect(principalKey('https://issuer.test', 'alice')).toBe(
      principalKey('https://issuer.test', 'alice'),
    )
    expect(principalKey('https://issuer.test', 'alice')).toBe('https://issuer.test|alice')
  })
})

describe('createPrincipal', () => {
  it('carries issuer, subject, key, audience as an array and expiresAt', () => {
    const principal = createPrincipal({ ...base })
    expect(principal.issuer).toBe('https://issuer.test')
    expect(principal.subject).toBe('alice')
    expect(principal.key).toBe(principalKey('https://issuer.test', 'alice'))
    expect(principal.audience).toEqual(['api'])
    expect(principal.expiresAt).toEqual(new Date(2_000_000_000_000))
    expect(principal.scopes).toEqual([])
  })

  it('keeps an audience array as it is and leaves expiresAt undefined without exp', () => {
    const principal = createPrincipal({ iss: 'i', sub: 's', aud: ['a', 'b'] })
    expect(principal.audience).toEqual(['a', 'b'])
    expect(principal.expiresAt).toBeUndefined()
  })

  it('reads scopes from the scope string, splitting on spaces and dropping empty parts', () => {
    expect(createPrincipal({ ...base, scope: 'orders:read  orders:write ' }).scopes).toEqual([
      'orders:read',
      'orders:write',
    ])
  })

  it('shares one frozen list between principals of the same scope string, and merges a second scope claim into a list of its own', () => {
    const first = createPrincipal({ ...base, scope: 'orders:read orders:write' })
    const second = createPrincipal({ ...base, sub: 'bob', scope: 'orders:read orders:write' })
    expect(second.scopes).toEqual(['orders:read', 'orders:write'])
    expect(second.scopes).toBe(first.scopes)
    expect(Object.isFrozen(second.scopes)).toBe(true)
    // The shared list is never written to: with `scp` too, the principal gets its own.
    const merged = createPrincipal({ ...base, scope: 'orders:read orders:write', scp: ['admin'] })
    expect(merged.scopes).toEqual(['orders:read', 'orders:write', 'admin'])
    expect(first.scopes).toEqual(['orders:read', 'orders:write'])
    // A string that is not a list of distinct scopes is not shared: it is cleaned up.
    expect(createPrincipal({ ...base, scope: 'a a  b' }).scopes).toEqual(['a', 'b'])
  })

  it('reads scopes from an scp array and from an scp string', () => {
    expect(createPrincipal({ ...base, scp: ['a', 'b', 7, ''] }).scopes).toEqual(['a', 'b'])
    expect(createPrincipal({ ...base, scp: 'a b' }).scopes).toEqual(['a', 'b'])
  })

  it('merges scope and scp without duplicates', () => {
    expect(createPrincipal({ ...base, scope: 'a b a', scp: ['b', 'c'] }).scopes).toEqual([
      'a',
      'b',
      'c',
    ])
  })

  it('ignores a scope claim of another type', () => {
    expect(createPrincipal({ ...base, scope: 42, scp: { a: 1 } }).scopes).toEqual([])
  })

  it('freezes the principal, its lists and its claims deeply', () => {
    const principal = createPrincipal({
      ...base,
      scope: 'a',
      nested: { list: [{ deep: { value: 1 } }] },
    })
    expect(Object.isFrozen(principal)).toBe(true)
    expect(Object.isFrozen(principal.scopes)).toBe(true)
    expect(Object.isFrozen(principal.audience)).toBe(true)
    expect(Object.isFrozen(principal.claims)).toBe(true)
    const nested = principal.claims.nested as { list: { deep: { value: number } }[] }
    expect(Object.isFrozen(nested)).toBe(true)
    expect(Object.isFrozen(nested.list)).toBe(true)
    expect(Object.isFrozen(nested.list[0])).toBe(true)
    expect(Object.isFrozen(nested.list[0]?.deep)).toBe(true)
    expect(() => {
      ;(nested.list[0] as { deep: { value: number } }).deep.value = 2
    }).toThrow(TypeError)
  })

  it('freezes a deeply nested payload without exhausting the stack', () => {
    let value: Record<string, unknown> = {}
    const root = value
    for (let i = 0; i < 20_000; i++) {
      const child = {}
      value.c = child
      value = child
    }
    const principal = createPrincipal({ ...base, deep: root })
    expect(Object.isFrozen(value)).toBe(true)
    expect(Object.isFrozen(principal.claims.deep)).toBe(true)
  })
})

describe('a shared principal cannot be changed (issue 9, item 15)', () => {
  // Every object and Date reachable from a value, through own properties and getters.
  function reachable(root: unknown): unknown[] {
    const seen = new Set<unknown>()
    const pending = [root]
    while (pending.length > 0) {
      const value = pending.pop()
      if (typeof value !== 'object' || value === null || seen.has(value)) continue
      seen.add(value)
      for (const name of Reflect.ownKeys(value)) {
        pending.push((value as Record<string | symbol, unknown>)[name])
      }
    }
    return [...seen]
  }

  it('hands out a new expiresAt Date on each read, so setFullYear on one is not seen by the next', () => {
    const principal = createPrincipal({ ...base, cnf: { jkt: 'thumbprint' } })
    const first = principal.expiresAt as Date
    first.setFullYear(1999)
    expect(principal.expiresAt?.getTime()).toBe(2_000_000_000_000)
    expect(principal.expiresAt).not.toBe(principal.expiresAt)
    // Everything else reachable is frozen; expiresAt can be neither reassigned nor redefined.
    for (const value of reachable(principal)) {
      if (value instanceof Date) continue
      expect(Object.isFrozen(value)).toBe(true)
    }
    expect(() => {
      ;(principal as { expiresAt: Date | undefined }).expiresAt = new Date(0)
    }).toThrow(TypeError)
    expect(() => Object.defineProperty(principal, 'expiresAt', { value: new Date(0) })).toThrow(
      TypeError,
    )
    expect(principal.expiresAt?.getTime()).toBe(2_000_000_000_000)
  })

  it('still serialises expiresAt and compares equal by value', () => {
    const principal = createPrincipal(base)
    expect(JSON.parse(JSON.stringify(principal))).toMatchObject({
      expiresAt: new Date(2_000_000_000_000).toISOString(),
    })
    expect({ ...principal }.expiresAt).toEqual(new Date(2_000_000_000_000))
    expect(createPrincipal(base)).toEqual(principal)
  })
})
