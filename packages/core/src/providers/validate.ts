/**
 * The start-up checks every provider preset runs on its options: each failure is a TypeError naming
 * the preset's field, as for any option of the verifier. Shared so that every preset words the same
 * mistake the same way.
 */
import { checkUrl } from '../fetch.js'
import { fail } from '../options.js'

/** A non-empty string, matching `pattern` when given (`hint` says what it should look like). */
export function text(value: unknown, field: string, pattern?: RegExp, hint = ''): string {
  if (typeof value !== 'string' || value === '') fail(field, 'is required: a non-empty string')
  if (pattern !== undefined && !pattern.test(value)) fail(field, `must be ${hint}`)
  return value
}

/** A string or a non-empty array of non-empty strings, frozen as an array. */
export function list(value: unknown, field: string): readonly string[] {
  const items = typeof value === 'string' ? [value] : value
  if (!Array.isArray(items) || items.length === 0) {
    fail(field, 'is required: a string or a non-empty array of strings')
  }
  for (const [i, item] of (items as unknown[]).entries()) {
    if (typeof item !== 'string' || item === '') {
      fail(`${field}[${String(i)}]`, 'must be a non-empty string')
    }
  }
  return Object.freeze([...(items as string[])])
}

/** {@link list}, or `undefined` when the option is left out. */
export function optionalList(value: unknown, field: string): readonly string[] | undefined {
  return value === undefined ? undefined : list(value, field)
}

/**
 * https:, or http: on a loopback host (a Keycloak on localhost in development), as key sources.
 */
export function issuerUrl(value: unknown, field: string): string {
  const url = checkUrl(text(value, field))
  if (typeof url === 'string') fail(field, url)
  // The string as given: `iss` is compared exactly, and URL parsing would normalise it.
  return value as string
}

/**
 * A DNS name, without scheme, path or port: what the provider's dashboard shows as the domain.
 */
export const HOST =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/
