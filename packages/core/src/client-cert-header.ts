/**
 * RFC 9440 `Client-Cert`: the forwarded form where a proxy sends the DER of the client certificate
 * as a structured-field byte sequence (RFC 8941 s3.3.5), `:<base64>:`.
 */
import { certificateFromDer, malformedCertificate } from './certificate-der.js'

// RFC 8941 s3.3.5 byte sequence: `:` base64 (RFC 4648 s4, padded) `:`.
const BYTE_SEQUENCE = /^:((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?):$/

/** RFC 9440 s2.2: `Client-Cert` is the DER of one certificate as a byte sequence. */
export function parseClientCertHeader(value: string): Buffer {
  const match = BYTE_SEQUENCE.exec(value.trim())
  if (match === null) return malformedCertificate()
  return certificateFromDer(Buffer.from(match[1] ?? '', 'base64'))
}
