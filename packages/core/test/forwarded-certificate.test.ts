import { beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { parseClientCertHeader } from '../src/client-cert-header.js'
import { parseEscapedPem } from '../src/escaped-pem.js'
import {
  forwardedCertificate,
  type ForwardedCertificateFormat,
  type ForwardedRequestMessage,
} from '../src/forwarded-certificate.js'
import { parseXfcc } from '../src/xfcc.js'
import { MalformedCertificateError } from '../src/mtls.js'
import { createCertificate, type TestCertificate } from '../../../test/helpers/certs.js'

let alice: TestCertificate
let bob: TestCertificate

beforeAll(() => {
  alice = createCertificate('alice')
  bob = createCertificate('bob')
})

/** The header value each format carries for `certificate`, as the proxy would write it. */
function encode(format: ForwardedCertificateFormat, certificate: TestCertificate): string {
  if (format === 'client-cert') return `:${certificate.der.toString('base64')}:`
  if (format === 'escaped-pem') return encodeURIComponent(certificate.cert)
  const hash = createHash('sha256').update(certificate.der).digest('hex')
  return `By=spiffe://proxy;Hash=${hash};Cert="${encodeURIComponent(certificate.cert)}";Subject="CN=x"`
}

function request(
  remoteAddress: string | undefined,
  headers: [string, string][] = [],
): ForwardedRequestMessage {
  return { socket: { remoteAddress }, rawHeaders: headers.flat() }
}

const NAMES: Record<ForwardedCertificateFormat, string> = {
  'client-cert': 'Client-Cert',
  'escaped-pem': 'X-SSL-Client-Cert',
  xfcc: 'X-Forwarded-Client-Cert',
}
const FORMATS = Object.keys(NAMES) as ForwardedCertificateFormat[]

describe('forwardedCertificate', () => {
  it.each(FORMATS)('%s: reads the header of a trusted proxy', (format) => {
    const read = forwardedCertificate({ format, trustedProxies: ['10.0.0.7'] })
    const header: [string, string] = [NAMES[format], encode(format, alice)]
    expect(read(request('10.0.0.7', [header]))).toEqual(alice.der)
    // A Fastify request is read through its `raw`.
    expect(read({ raw: request('10.0.0.7', [header]) })).toEqual(alice.der)
  })

  it.each(FORMATS)('%s: ignores the same header from an untrusted address', (format) => {
    const read = forwardedCertificate({ format, trustedProxies: ['10.0.0.7', '192.168.1.0/24'] })
    const header: [string, string] = [NAMES[format], encode(format, alice)]
    for (const address of ['10.0.0.8', '192.168.2.1', '::1', undefined]) {
      expect(read(request(address, [header]))).toBeUndefined()
    }
    // Honest twins: the listed address, an address in the range, its IPv4-mapped IPv6 spelling.
    for (const address of ['10.0.0.7', '192.168.1.200', '::ffff:192.168.1.9']) {
      expect(read(request(address, [header]))).toEqual(alice.der)
    }
  })

  it.each(FORMATS)('%s: no header or an empty one is no certificate', (format) => {
    const read = forwardedCertificate({ format, trustedProxies: ['127.0.0.1'] })
    expect(read(request('127.0.0.1'))).toBeUndefined()
    expect(read(request('127.0.0.1', [[NAMES[format], '']]))).toBeUndefined()
  })

  it.each(FORMATS)('%s: two headers are malformed, not a choice between them', (format) => {
    const read = forwardedCertificate({ format, trustedProxies: ['127.0.0.1'] })
    const twice = request('127.0.0.1', [
      [NAMES[format], encode(format, alice)],
      [NAMES[format].toLowerCase(), encode(format, bob)],
    ])
    expect(() => read(twice)).toThrow(MalformedCertificateError)
  })

  it('takes a header name of choice', () => {
    const read = forwardedCertificate({
      format: 'escaped-pem',
      trustedProxies: ['127.0.0.1'],
      header: 'X-Client-Cert',
    })
    const value = encode('escaped-pem', alice)
    expect(read(request('127.0.0.1', [['x-client-cert', value]]))).toEqual(alice.der)
    expect(read(request('127.0.0.1', [['x-ssl-client-cert', value]]))).toBeUndefined()
  })

  it('refuses bad options at start-up, naming the field', () => {
    const format = 'client-cert'
    expect(() => forwardedCertificate({ format } as never)).toThrow(
      /^trustgate: trustedProxies is required/,
    )
    expect(() => forwardedCertificate({ format, trustedProxies: [] })).toThrow(
      /^trustgate: trustedProxies is required/,
    )
    for (const bad of ['proxy.internal', '10.0.0.0/33', '10.0.0.0/8/1', '::1/129', '10.0.0.1/x']) {
      expect(() => forwardedCertificate({ format, trustedProxies: ['127.0.0.1', bad] })).toThrow(
        'trustgate: trustedProxies[1] must be an IP address or a CIDR range such as 10.0.0.0/8',
      )
    }
    expect(() => forwardedCertificate({ format: 'pem' as never, trustedProxies: ['::1'] })).toThrow(
      /^trustgate: format must be one of/,
    )
    expect(() =>
      forwardedCertificate({ format, trustedProxies: ['::1'], header: 'bad header' }),
    ).toThrow('trustgate: header must be an HTTP header name')
    expect(() => forwardedCertificate(undefined as never)).toThrow(
      'trustgate: forwardedCertificate needs options: { format, trustedProxies }',
    )
    expect(() => forwardedCertificate({ format, trustedProxies: [10] as never })).toThrow(
      'trustgate: trustedProxies[0] must be a string',
    )
    for (const bad of ['constructor', 'toString', undefined]) {
      expect(() => forwardedCertificate({ format: bad as never, trustedProxies: ['::1'] })).toThrow(
        /^trustgate: format must be one of/,
      )
    }
    expect(() =>
      forwardedCertificate({ format, trustedProxies: ['::1'], headers: 'x' } as never),
    ).toThrow('trustgate: headers is not an option (did you mean header?)')
    expect(() =>
      forwardedCertificate({ format, trustedProxies: ['fd00::/8', '::1'] }),
    ).not.toThrow()
  })
})

describe('the header parsers', () => {
  it('read RFC 9440 Client-Cert, and refuse anything but one DER certificate', () => {
    expect(parseClientCertHeader(encode('client-cert', alice))).toEqual(alice.der)
    for (const bad of [
      alice.der.toString('base64'), // not a byte sequence
      `:${alice.der.toString('base64url')}:`, // base64url is not sf-binary's alphabet
      `:${alice.der.toString('base64')}`,
      '::',
      `:${Buffer.from('not a certificate').toString('base64')}:`,
      `:${alice.der.subarray(0, 100).toString('base64')}:`, // cut short
      `:${Buffer.concat([alice.der, Buffer.from([0])]).toString('base64')}:`, // trailing byte
      `:${Buffer.from([0x30, 0x03, 0x30, 0x01, 0x00]).toString('base64')}:`, // not 3 elements
      `:${Buffer.from([0x30, 0x80, 0x00, 0x00]).toString('base64')}:`, // indefinite length (BER)
    ]) {
      expect(() => parseClientCertHeader(bad)).toThrow(MalformedCertificateError)
    }
  })

  it('read an nginx URL-encoded PEM, and refuse bad escapes, bad PEM and chains', () => {
    expect(parseEscapedPem(encode('escaped-pem', alice))).toEqual(alice.der)
    for (const bad of [
      '%E0%A4%A', // a broken escape
      encodeURIComponent(alice.cert.replace('CERTIFICATE', 'PRIVATE KEY')),
      encodeURIComponent(alice.cert + bob.cert), // two certificates
      encodeURIComponent(alice.cert.replace('-----\n', '-----\n!')), // not base64
      'garbage',
    ]) {
      expect(() => parseEscapedPem(bad)).toThrow(MalformedCertificateError)
    }
  })

  it('read the last XFCC element, the one the nearest proxy appended', () => {
    // An earlier element names bob: whoever sent it, the nearest proxy's element wins.
    const value = `${encode('xfcc', bob)},${encode('xfcc', alice)}`
    expect(parseXfcc(value)).toEqual(alice.der)
    expect(parseXfcc(`${encode('xfcc', alice)},${encode('xfcc', bob)}`)).toEqual(bob.der)
    // Quoted values may hold `,`, `;` and escaped quotes.
    const quoted = `Subject="CN=a,O=\\"b;c\\"";Cert="${encodeURIComponent(alice.cert)}"`
    expect(parseXfcc(quoted)).toEqual(alice.der)
    // Unquoted Cert, as Envoy writes it when nothing needs quoting, and keys in any case.
    expect(parseXfcc(`cert=${encodeURIComponent(alice.cert)};URI=spiffe://a`)).toEqual(alice.der)
    // Many elements before it (Envoy appends one per hop; a client may send any number).
    const many = `${'By=spiffe://hop;URI=x,'.repeat(2000)}${encode('xfcc', alice)}`
    expect(parseXfcc(many)).toEqual(alice.der)
    // The last element without Cert: no certificate, even if an earlier element has one.
    expect(parseXfcc(`${encode('xfcc', alice)},By=spiffe://proxy;Hash=abc`)).toBeUndefined()
  })

  it('refuse a malformed XFCC, or a Hash that does not match its Cert', () => {
    const cert = encodeURIComponent(alice.cert)
    for (const bad of [
      `Cert="${cert}`, // unterminated quote
      `Cert=${cert};Cert=${cert}`, // a key twice in an element
      `Cert=a"b`,
      `Cert="${cert}" x`,
      'no pairs here',
      `Hash=${'0'.repeat(64)};Cert="${cert}"`,
      `Cert="${encodeURIComponent('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')}"`,
    ]) {
      expect(() => parseXfcc(bad)).toThrow(MalformedCertificateError)
    }
  })
})
