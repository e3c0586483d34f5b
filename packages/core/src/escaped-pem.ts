/**
 * The URL-encoded PEM of a client certificate: what nginx sends as `$ssl_client_escaped_cert`, and
 * what an Envoy XFCC element carries in its `Cert` (xfcc.ts).
 */
import { certificateFromDer, malformedCertificate } from './certificate-der.js'

// RFC 7468 s2: exactly one certificate, strict base64 lines between the encapsulation boundaries.
const PEM =
  /^-----BEGIN CERTIFICATE-----\r?\n((?:[A-Za-z0-9+/=]+\r?\n)+)-----END CERTIFICATE-----\r?\n?$/

/** nginx `$ssl_client_escaped_cert`: the client certificate in PEM, URL-encoded. */
export function parseEscapedPem(value: string): Buffer {
  let pem: string
  try {
    pem = decodeURIComponent(value)
  } catch {
    return malformedCertificate()
  }
  // Whitespace around the PEM is trimmed after decoding, so an encoded one (`%0A`) goes too.
  const match = PEM.exec(pem.trim() + '\n')
  if (match === null) return malformedCertificate()
  return certificateFromDer(Buffer.from((match[1] ?? '').replace(/\r?\n/g, ''), 'base64'))
}
