/**
 * The URL a DPoP proof is for (RFC 9449 s4.3 check 9, `htu`) and the URL of the request it is
 * compared with. The request's URL is built from the configured public origin and the request
 * line's path, never from a `Host` or forwarded header: a client must not choose what its proof is
 * checked against.
 */
import { fail } from './options.js'

// RFC 3986 s2.3: percent-encoded unreserved characters are decoded by normalisation (s6.2.2.2).
const UNRESERVED = /^[A-Za-z0-9\-._~]$/

// An absolute http(s) URL without credentials, or `undefined`.
function httpUrl(value: string): URL | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
  if (url.username !== '' || url.password !== '') return undefined
  return url
}

/**
 * RFC 9449 s4.3 check 9: `htu` without query and fragment, normalised as RFC 3986 s6.2.2 and
 * s6.2.3 say (scheme and host lower-cased, default port and dot segments removed, percent-encoding
 * upper-cased, unreserved characters decoded). `undefined` for anything that is not an absolute
 * http(s) URL.
 */
export function normalizeHtu(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const url = httpUrl(value)
  if (url === undefined) return undefined
  const path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16))
    return UNRESERVED.test(char) ? char : escape.toUpperCase()
  })
  return `${url.protocol}//${url.host}${path}`
}

/**
 * The public origin of an API, as configured: `scheme://host[:port]`, nothing else. `undefined`
 * for a value with a path, query, fragment or credentials: an origin must never carry a path into
 * the URL that `htu` is compared with.
 */
export function checkOrigin(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.includes('?') || value.includes('#')) return undefined
  const url = httpUrl(value)
  return url === undefined || url.pathname !== '/' ? undefined : url.origin
}

/**
 * The URL of a request, for `htu`: the configured public `origin` and the path of the request
 * line (`req.url`), never a `Host` or forwarded header. `undefined` when the origin is not a bare
 * origin (see {@link checkOrigin}) or the request target is not in origin form (`/path?query`).
 */
export function requestUrl(origin: unknown, target: unknown): string | undefined {
  const base = checkOrigin(origin)
  if (base === undefined || typeof target !== 'string' || !target.startsWith('/')) return undefined
  // The target starts with `/`, so it is all path and query: it cannot change the host.
  return base + target
}

/**
 * Checks an adapter's `origin` option at start-up: a bare origin or a function, and required when
 * DPoP is on (proofs name the URL they are for, and the `Host` header must not decide it).
 */
export function checkOriginOption(origin: unknown, dpop: boolean): void {
  if (origin === undefined) {
    if (dpop) fail('origin', 'is required with dpop: the public origin DPoP proofs are made for')
  } else if (typeof origin !== 'function' && checkOrigin(origin) === undefined) {
    fail('origin', 'must be an origin (https://api.example.com) or a function returning one')
  }
}
