/**
 * Client certificates forwarded by a TLS-terminating proxy, for the adapters' `getClientCertificate`
 * option. A header is only as trustworthy as the connection it came on: any client can send
 * `Client-Cert: :…:`. So each reader needs an explicit list of proxy addresses (trusted-proxies.ts),
 * reads the header only on a connection whose socket address is in that list, and otherwise
 * answers "no certificate". It never looks at the socket's own TLS certificate (that is the proxy's, on a
 * proxied connection), and the adapters never look at a header without one of these readers: which
 * source counts is the server's configuration, never the client's choice. One parser per format:
 * client-cert-header.ts, escaped-pem.ts, xfcc.ts.
 */
import { malformedCertificate } from './certificate-der.js'
import { parseClientCertHeader } from './client-cert-header.js'
import { parseEscapedPem } from './escaped-pem.js'
import { checkOptionNames, fail } from './options.js'
import { headerValues } from './raw-headers.js'
import { isTrustedProxy, trustedProxyList } from './trusted-proxies.js'
import { parseXfcc } from './xfcc.js'

/** The forwarded forms understood. */
export type ForwardedCertificateFormat =
  /** RFC 9440 `Client-Cert`: the DER as a structured-field byte sequence, `:<base64>:`. */
  | 'client-cert'
  /** nginx `$ssl_client_escaped_cert`: the PEM, URL-encoded. */
  | 'escaped-pem'
  /** Envoy `x-forwarded-client-cert` (XFCC), with `Cert="<URL-encoded PEM>"`. */
  | 'xfcc'

/** Options of {@link forwardedCertificate}. */
export interface ForwardedCertificateOptions {
  /** How the proxy sends the certificate. */
  format: ForwardedCertificateFormat
  /**
   * The proxies whose header is believed: IPv4 or IPv6 addresses, or CIDR ranges
   * (`10.0.0.0/8`, `fd00::/8`), compared with the socket's own remote address, never with
   * `X-Forwarded-For` or a framework's `ip`. At least one.
   */
  trustedProxies: readonly string[]
  /**
   * The header name. Default: `client-cert` (RFC 9440), `x-ssl-client-cert` (nginx, as set with
   * `proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert`), `x-forwarded-client-cert`
   * (Envoy).
   */
  header?: string
}

/** The part of a Node request (Express's `req`, or Fastify's `request.raw`) a reader looks at. */
export interface ForwardedRequestMessage {
  readonly socket: { readonly remoteAddress?: string | undefined }
  readonly rawHeaders: readonly string[]
}

/** An Express request, a Node `IncomingMessage`, or a Fastify request (through its `raw`). */
export type ForwardedRequest = ForwardedRequestMessage | { readonly raw: ForwardedRequestMessage }

/** Reads the forwarded certificate of a request; usable as `getClientCertificate`. */
export type ForwardedCertificateReader = (request: ForwardedRequest) => Buffer | undefined

const DEFAULT_HEADERS: Readonly<Record<ForwardedCertificateFormat, string>> = {
  'client-cert': 'client-cert',
  'escaped-pem': 'x-ssl-client-cert',
  xfcc: 'x-forwarded-client-cert',
}

// RFC 9110 s5.1 token: the characters a header name may have.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

const PARSERS: Readonly<Record<ForwardedCertificateFormat, (value: string) => Buffer | undefined>> =
  {
    'client-cert': parseClientCertHeader,
    'escaped-pem': parseEscapedPem,
    xfcc: parseXfcc,
  }

/**
 * A reader of the client certificate a trusted proxy forwarded, for the adapters'
 * `getClientCertificate`:
 *
 * ```ts
 * getClientCertificate: forwardedCertificate({ format: 'client-cert', trustedProxies: ['10.0.0.7'] })
 * ```
 *
 * On a connection from an address not in `trustedProxies`, the header is ignored and the request
 * has no certificate. From a trusted proxy: no header (or an empty one) is no certificate, one
 * header is parsed, and two headers or an unreadable one throw `MalformedCertificateError` (mtls.ts)
 * (`invalid_request`, reason `malformed_client_certificate`). The proxy must remove any such
 * header the client sent.
 */
export function forwardedCertificate(
  options: ForwardedCertificateOptions,
): ForwardedCertificateReader {
  if (typeof options !== 'object' || (options as unknown) === null) {
    fail('forwardedCertificate', 'needs options: { format, trustedProxies }')
  }
  checkOptionNames(options, ['format', 'trustedProxies', 'header'])
  const { format } = options
  // Own keys only: `constructor` or `toString` is not a format.
  if (typeof format !== 'string' || !Object.hasOwn(PARSERS, format)) {
    fail('format', 'must be one of: client-cert, escaped-pem, xfcc')
  }
  const parse = PARSERS[format]
  const { header = DEFAULT_HEADERS[format] } = options
  if (typeof header !== 'string' || !HEADER_NAME.test(header)) {
    fail('header', 'must be an HTTP header name')
  }
  const proxies = trustedProxyList(options.trustedProxies)
  const name = header.toLowerCase()
  return function readForwardedCertificate(request) {
    const message = 'rawHeaders' in request ? request : request.raw
    if (!isTrustedProxy(proxies, message.socket.remoteAddress)) return undefined
    // rawHeaders, not headers: Node joins or drops repeated fields there, which hides a second one.
    const values = headerValues(message.rawHeaders, name)
    if (values.length > 1) return malformedCertificate()
    const value = values[0]
    if (value === undefined || value.trim() === '') return undefined
    return parse(value)
  }
}
