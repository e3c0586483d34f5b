/**
 * Self-signed X.509 certificates minted in-test with node:crypto alone: a P-256 key and a v3
 * certificate (RFC 5280 s4.1) written out in DER by a few lines of ASN.1, so that no fixture sits on
 * disk and no openssl binary or certificate package is needed. Enough for TLS servers and clients
 * on 127.0.0.1 and for RFC 8705 self-signed client authentication; not a general CA.
 */
import { createHash, generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto'

/** A key pair and its self-signed certificate. */
export interface TestCertificate {
  /** PEM of the certificate, for `cert`/`ca` of node:tls. */
  readonly cert: string
  /** PEM (PKCS #8) of the private key, for `key` of node:tls. */
  readonly key: string
  readonly der: Buffer
  readonly x509: X509Certificate
  readonly privateKey: KeyObject
  /** RFC 8705 s3.1 `x5t#S256`: base64url SHA-256 of the DER. */
  readonly thumbprint: string
}

// DER: a tag, a definite length, the content.
function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length
  const length =
    n < 0x80
      ? Buffer.from([n])
      : n < 0x100
        ? Buffer.from([0x81, n])
        : Buffer.from([0x82, n >> 8, n & 0xff])
  return Buffer.concat([Buffer.from([tag]), length, content])
}
const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items))
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items))

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number)
  const bytes = [40 * a + b]
  for (const arc of rest) {
    const chunk = [arc & 0x7f]
    for (let v = arc >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80)
    bytes.push(...chunk)
  }
  return tlv(0x06, Buffer.from(bytes))
}

// RFC 5280 s4.1.2.5.1: UTCTime YYMMDDHHMMSSZ (years 1950-2049).
function utcTime(date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'
  return tlv(0x17, Buffer.from(text, 'ascii'))
}

let serial = 0

/**
 * A self-signed ECDSA P-256 certificate for `commonName`, valid from an hour ago for a day, with
 * a subjectAltName of IP 127.0.0.1 so that a TLS client checking the server name accepts it there.
 */
export function createCertificate(commonName = 'trustgate test'): TestCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'))
  const name = seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))))
  const now = Date.now()
  serial += 1
  const subjectAltName = seq(
    oid('2.5.29.17'),
    tlv(0x04, seq(tlv(0x87, Buffer.from([127, 0, 0, 1])))), // [7] iPAddress
  )
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // version v3
    tlv(0x02, Buffer.from([0x01, serial & 0xff, (now >> 8) & 0xff, now & 0xff])),
    ecdsaWithSha256,
    name,
    seq(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(subjectAltName)),
  )
  const signature = sign('sha256', tbs, privateKey)
  const der = seq(tbs, ecdsaWithSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])))
  const x509 = new X509Certificate(der)
  if (!x509.verify(publicKey)) throw new Error('the test certificate does not verify')
  return {
    cert: x509.toString(),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    der,
    x509,
    privateKey,
    thumbprint: createHash('sha256').update(der).digest('base64url'),
  }
}
