/**
 * Client certificates forwarded by a TLS-terminating proxy, for the adapters' `getClientCertificate`
 * option. A header is only as trustworthy as the connection it came on: any client can send
 * `Client-Cert: :…:`. So each reader needs an explicit list of proxy addresses, reads the header
 * only on a connection whose socket address is in that list, and otherwise answers "no
 * certificate". It never looks at the socket's own TLS certificate (that is the proxy's, on a
 * proxied connection), and the adapters never look at a header without one of these readers: which
 * source counts is the server's configuration, never the client's choice.
 */
import { hash } from 'node:crypto'
import { BlockList, isIP } from 'node:net'
import { MalformedCertificateError } from './mtls.js'
import { checkOptionNames, fail } from './options.js'

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

/** Builds the allowlist of proxies, a TypeError naming the entry for anything not an address. */
function proxyList(value: unknown): BlockList {
  if (!Array.isArray(value) || value.length === 0) {
    fail('trustedProxies', 'is required: a non-empty array of proxy addresses or CIDR ranges')
  }
  const list = new BlockList()
  for (const [i, entry] of (value as unknown[]).entries()) {
    const field = `trustedProxies[${String(i)}]`
    if (typeof entry !== 'string') fail(field, 'must be a string')
    const [address = '', prefix, extra] = entry.split('/')
    const version = isIP(address)
    const family = version === 4 ? 'ipv4' : 'ipv6'
    const bits = prefix === undefined ? undefined : Number(prefix)
    if (
      version === 0 ||
      extra !== undefined ||
      (bits !== undefined && (!/^\d{1,3}$/.test(prefix ?? '') || bits > (version === 4 ? 32 : 128)))
    ) {
      fail(field, 'must be an IP address or a CIDR range such as 10.0.0.0/8')
    }
    if (bits === undefined) list.addAddress(address, family)
    else list.addSubnet(address, bits, family)
  }
  return list
}

function isTrusted(proxies: BlockList, address: string | undefined): boolean {
  if (address === undefined) return false
  const version = isIP(address)
  // BlockList matches an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) against IPv4 rules too.
  return version !== 0 && proxies.check(address, version === 4 ? 'ipv4' : 'ipv6')
}

function malformed(): never {
  throw new MalformedCertificateError('the forwarded client certificate cannot be read')
}

// The length of a DER element at `at`, header included, or -1 (short and long form, X.690 s8.1.3;
// at most four length bytes, plenty for a certificate under the 16 KiB of a header).
function elementEnd(der: Buffer, at: number, tag: number): number {
  if (der[at] !== tag) return -1
  const first = der[at + 1]
  if (first === undefined) return -1
  if (first < 0x80) return at + 2 + first
  const count = first & 0x7f
  if (count === 0 || count > 4) return -1
  let length = 0
  for (let i = 0; i < count; i++) {
    const byte = der[at + 2 + i]
    if (byte === undefined) return -1
    length = length * 256 + byte
  }
  return at + 2 + count + length
}

/**
 * Checks that `der` has the shape of one X.509 certificate (RFC 5280 s4.1): a SEQUENCE spanning all
 * of it, of a SEQUENCE (tbsCertificate), a SEQUENCE (signatureAlgorithm) and a BIT STRING
 * (signatureValue), and nothing after. Enough to refuse garbage or a cut header as malformed; the
 * bytes are only hashed, never trusted, and a full parse (`new X509Certificate`) costs about half
 * a millisecond on Node 20, on every request.
 */
function certificateFromDer(der: Buffer): Buffer {
  const end = elementEnd(der, 0, 0x30)
  if (end !== der.length) return malformed()
  // The first inner element starts after the outer tag and length bytes.
  const lengthByte = der[1] ?? 0
  let at = lengthByte < 0x80 ? 2 : 2 + (lengthByte & 0x7f)
  for (const tag of [0x30, 0x30, 0x03]) {
    const next = elementEnd(der, at, tag)
    if (next === -1 || next > end) return malformed()
    at = next
  }
  return at === end ? der : malformed()
}

// RFC 8941 s3.3.5 byte sequence: `:` base64 (RFC 4648 s4, padded) `:`.
const BYTE_SEQUENCE = /^:((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?):$/

/** RFC 9440 s2.2: `Client-Cert` is the DER of one certificate as a byte sequence. */
export function parseClientCertHeader(value: string): Buffer {
  const match = BYTE_SEQUENCE.exec(value.trim())
  if (match === null) return malformed()
  return certificateFromDer(Buffer.from(match[1] ?? '', 'base64'))
}

// RFC 7468 s2: exactly one certificate, strict base64 lines between the encapsulation boundaries.
const PEM =
  /^-----BEGIN CERTIFICATE-----\r?\n((?:[A-Za-z0-9+/=]+\r?\n)+)-----END CERTIFICATE-----\r?\n?$/

function certificateFromPem(pem: string): Buffer {
  const match = PEM.exec(pem.trim() + '\n')
  if (match === null) return malformed()
  return certificateFromDer(Buffer.from((match[1] ?? '').replace(/\r?\n/g, ''), 'base64'))
}

function urlDecode(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return malformed()
  }
}

/** nginx `$ssl_client_escaped_cert`: the client certificate in PEM, URL-encoded. */
export function parseEscapedPem(value: string): Buffer {
  return certificateFromPem(urlDecode(value.trim()))
}

/**
 * Splits an XFCC value into elements of key/value pairs: elements are separated by `,`, pairs by
 * `;`, and a value may be double-quoted, with `\"` inside, so that `,` and `;` may appear in it.
 */
function parseXfccElements(value: string): Map<string, string>[] {
  const elements: Map<string, string>[] = []
  let pairs = new Map<string, string>()
  let i = 0
  for (;;) {
    const eq = value.indexOf('=', i)
    if (eq === -1) return malformed()
    const key = value.slice(i, eq).trim().toLowerCase()
    if (!/^[a-z]+$/.test(key) || pairs.has(key)) return malformed()
    i = eq + 1
    let item = ''
    if (value[i] === '"') {
      i++
      for (;;) {
        const c = value[i]
        if (c === undefined) return malformed()
        i++
        if (c === '"') break
        if (c === '\\') {
          const next = value[i]
          if (next === undefined) return malformed()
          item += next
          i++
        } else {
          item += c
        }
      }
    } else {
      // A scan, not a search on a slice: a copy of the rest per pair would be quadratic.
      let end = i
      while (end < value.length && value[end] !== ';' && value[end] !== ',') end++
      item = value.slice(i, end)
      if (item.includes('"')) return malformed()
      i = end
      item = item.trim()
    }
    pairs.set(key, item)
    while (value[i] === ' ' || value[i] === '\t') i++
    const separator = value[i]
    if (separator === undefined) break
    i++
    if (separator === ',') {
      elements.push(pairs)
      pairs = new Map()
    } else if (separator !== ';') {
      return malformed()
    }
  }
  elements.push(pairs)
  return elements
}

/**
 * Envoy XFCC. With `forward_client_cert_details: APPEND_FORWARD` each Envoy on the way appends one
 * element about the client it saw (and drops the header on a connection without a client
 * certificate); with `SANITIZE_SET` it writes the only one. Either way the last element is the one
 * the nearest Envoy wrote: that is the one read. Earlier elements may come from anyone before it,
 * the client included. (`FORWARD_ONLY` and `ALWAYS_FORWARD_ONLY` pass the client's header on as
 * it is, and cannot be told apart here: the README says not to use them.) Its `Cert` is the
 * URL-encoded PEM (`set_current_client_cert_details: { cert: true }`); when the element also has
 * `Hash` (hex SHA-256 of the DER), the two must agree. An element without `Cert` means no
 * certificate.
 */
export function parseXfcc(value: string): Buffer | undefined {
  const element = parseXfccElements(value).at(-1)
  const cert = element?.get('cert')
  if (cert === undefined || cert === '') return undefined
  const certificate = certificateFromPem(urlDecode(cert))
  const digest = element?.get('hash')
  if (digest !== undefined && digest.toLowerCase() !== hash('sha256', certificate, 'hex')) {
    return malformed()
  }
  return certificate
}

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
 * header is parsed, and two headers or an unreadable one throw {@link MalformedCertificateError}
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
  const proxies = proxyList(options.trustedProxies)
  const name = header.toLowerCase()
  return function readForwardedCertificate(request) {
    const message = 'rawHeaders' in request ? request : request.raw
    if (!isTrusted(proxies, message.socket.remoteAddress)) return undefined
    // rawHeaders, not headers: Node joins or drops repeated fields there, which hides a second one.
    let value: string | undefined
    const raw = message.rawHeaders
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const field = raw[i]
      if (field !== undefined && field.length === name.length && field.toLowerCase() === name) {
        if (value !== undefined) return malformed()
        value = raw[i + 1] ?? ''
      }
    }
    if (value === undefined || value.trim() === '') return undefined
    return parse(value)
  }
}
