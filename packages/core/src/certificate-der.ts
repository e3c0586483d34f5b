/**
 * The shape check shared by every forwarded-certificate format: the bytes a proxy sent must look
 * like one DER-encoded X.509 certificate, or the request is refused as malformed
 * ({@link MalformedCertificateError}, a 400). The bytes are only hashed (RFC 8705 s3.1), never
 * trusted, so a shape check is enough: a full parse (`new X509Certificate`) costs about half a
 * millisecond on Node 20, on every request.
 */
import { MalformedCertificateError } from './mtls.js'

/** Throws the error of a forwarded certificate that cannot be read. */
export function malformedCertificate(): never {
  throw new MalformedCertificateError('the forwarded client certificate cannot be read')
}

// Where the content of the DER element at `at` starts and ends, or `undefined` if there is no
// element of tag `tag` there (short and long form lengths, X.690 s8.1.3; at most four length bytes,
// plenty for a certificate under the 16 KiB of a header).
function element(der: Buffer, at: number, tag: number): { start: number; end: number } | undefined {
  if (der[at] !== tag) return undefined
  const first = der[at + 1]
  if (first === undefined) return undefined
  if (first < 0x80) return { start: at + 2, end: at + 2 + first }
  const count = first & 0x7f
  if (count === 0 || count > 4) return undefined
  let length = 0
  for (let i = 0; i < count; i++) {
    const byte = der[at + 2 + i]
    if (byte === undefined) return undefined
    length = length * 256 + byte
  }
  return { start: at + 2 + count, end: at + 2 + count + length }
}

/**
 * `der` if it has the shape of one X.509 certificate (RFC 5280 s4.1): a SEQUENCE spanning all of
 * it, of a SEQUENCE (tbsCertificate), a SEQUENCE (signatureAlgorithm) and a BIT STRING
 * (signatureValue), and nothing after. Anything else (garbage, a cut header) is malformed.
 */
export function certificateFromDer(der: Buffer): Buffer {
  const outer = element(der, 0, 0x30)
  if (outer === undefined || outer.end !== der.length) return malformedCertificate()
  let at = outer.start
  for (const tag of [0x30, 0x30, 0x03]) {
    const inner = element(der, at, tag)
    if (inner === undefined || inner.end > outer.end) return malformedCertificate()
    at = inner.end
  }
  return at === outer.end ? der : malformedCertificate()
}
