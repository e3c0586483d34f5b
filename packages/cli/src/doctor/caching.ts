/**
 * The JWK Set response's Cache-Control header, read for what it says about caching keys. trustgate
 * keeps keys for `jwks.cacheMaxAge` whatever the header says, so the check only warns: when the
 * issuer says nothing, asks for no caching, or gives no max-age.
 */
import { show } from '../text.js'
import { check, type Check } from './check.js'

/** The `cache_control` check of a JWK Set response. */
export function cacheControl(headers: Headers): Check {
  const value = headers.get('cache-control')
  if (value === null) {
    return check(
      'cache_control',
      'warn',
      'no Cache-Control header: the issuer says nothing about how long keys may be cached (trustgate keeps them for jwks.cacheMaxAge)',
    )
  }
  const directives = value.toLowerCase()
  const maxAge = /(?:^|[,\s])max-age\s*=\s*"?(\d+)/.exec(directives)?.[1]
  if (/(?:^|[,\s])(no-store|no-cache)\b/.test(directives) || maxAge === '0') {
    return check(
      'cache_control',
      'warn',
      `Cache-Control ${show(value)} asks for no caching: trustgate caches keys anyway (for jwks.cacheMaxAge), as every JWT verifier must`,
    )
  }
  if (maxAge === undefined) {
    return check('cache_control', 'warn', `Cache-Control ${show(value)} has no max-age`)
  }
  return check(
    'cache_control',
    'pass',
    `Cache-Control ${show(value)}: max-age ${maxAge} s (trustgate refreshes after jwks.cacheMaxAge, 600 s by default)`,
  )
}
