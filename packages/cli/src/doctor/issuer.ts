/**
 * The checks on the issuer's own URLs: that the issuer and its `jwks_uri` use https (or loopback
 * http, for development) as the verifier demands, and that the discovery document names the
 * issuer byte for byte, with the usual mistake named when it does not.
 */
import { checkUrl, isLoopbackHost } from '@trustgate/core'
import { show } from '../text.js'
import { check, type Check } from './check.js'

/**
 * Says how two issuer strings differ, for the exact-match check: the common mistakes first
 * (trailing slash, letter case, scheme), then the first differing position.
 */
export function describeDifference(expected: string, actual: string): string {
  if (actual === `${expected}/`) return 'the metadata has a trailing slash that the issuer lacks'
  if (expected === `${actual}/`) return 'the issuer has a trailing slash that the metadata lacks'
  if (actual.toLowerCase() === expected.toLowerCase()) return 'they differ in letter case only'
  const scheme = (s: string): string => s.replace(/^[a-z]+:/i, '')
  if (scheme(actual) === scheme(expected)) return 'they differ in the URL scheme only'
  let i = 0
  while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++
  return `they differ from character ${String(i)} on: ${show(expected.slice(i))} against ${show(actual.slice(i))}`
}

/** https, loopback http (development only), or refused as trustgate refuses it. */
export function transport(
  id: 'issuer_https' | 'jwks_uri_https',
  what: string,
  value: unknown,
): { check: Check; url: URL | undefined } {
  const url = checkUrl(value)
  if (typeof url === 'string') {
    return { check: check(id, 'fail', `${what} ${show(value)} ${url}`), url: undefined }
  }
  if (url.protocol === 'https:') return { check: check(id, 'pass', `${what} uses https:`), url }
  return {
    check: check(
      id,
      isLoopbackHost(url.hostname) ? 'warn' : 'fail',
      `${what} uses http: on a loopback host: accepted for development, never in production`,
    ),
    url,
  }
}

/**
 * The metadata's `issuer` against the configured one: the verifier refuses any difference
 * (OpenID Connect Discovery s4.3), and `iss` must equal the configured issuer exactly.
 */
export function issuerMatch(metadata: Record<string, unknown>, issuer: string): Check {
  return metadata.issuer === issuer
    ? check('issuer_match', 'pass', `the metadata issuer is ${show(issuer)}, byte for byte`)
    : check(
        'issuer_match',
        'fail',
        typeof metadata.issuer === 'string'
          ? `the metadata names ${show(metadata.issuer)}, not ${show(issuer)}: ${describeDifference(issuer, metadata.issuer)}; trustgate refuses the discovery (OpenID Connect Discovery s4.3) and iss must equal the configured issuer exactly`
          : 'the metadata has no issuer string',
      )
}
