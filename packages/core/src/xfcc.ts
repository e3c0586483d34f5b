/**
 * Envoy `x-forwarded-client-cert` (XFCC): elements of key/value pairs, the last one written by the
 * nearest Envoy, whose `Cert` is the URL-encoded PEM of the client certificate.
 */
import { hash } from 'node:crypto'
import { malformedCertificate } from './certificate-der.js'
import { parseEscapedPem } from './escaped-pem.js'

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
    if (eq === -1) return malformedCertificate()
    const key = value.slice(i, eq).trim().toLowerCase()
    if (!/^[a-z]+$/.test(key) || pairs.has(key)) return malformedCertificate()
    i = eq + 1
    let item = ''
    if (value[i] === '"') {
      i++
      for (;;) {
        const c = value[i]
        if (c === undefined) return malformedCertificate()
        i++
        if (c === '"') break
        if (c === '\\') {
          const next = value[i]
          if (next === undefined) return malformedCertificate()
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
      if (item.includes('"')) return malformedCertificate()
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
      return malformedCertificate()
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
  const certificate = parseEscapedPem(cert)
  const digest = element?.get('hash')
  if (digest !== undefined && digest.toLowerCase() !== hash('sha256', certificate, 'hex')) {
    return malformedCertificate()
  }
  return certificate
}
