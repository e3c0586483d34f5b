/**
 * Untrusted decoding of a compact JWS (RFC 7515 s7.1). Nothing here is believed yet: it only
 * proves the token has the shape of a JWT, so that the issuer can be looked up.
 */
import { isUtf8 } from 'node:buffer'

/** A JSON object, as produced by `JSON.parse`. */
export type JsonObject = Record<string, unknown>

/** A token split and decoded, not yet verified. */
export interface DecodedToken {
  readonly header: JsonObject
  readonly payload: JsonObject
  /** `<header>.<payload>` as sent: the bytes the signature covers. */
  readonly signingInput: string
  readonly signature: Uint8Array
}

// RFC 7515 s2: base64url without padding.
const BASE64URL = /^[A-Za-z0-9_-]+$/

/** True for a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// The value of each base64url character (RFC 4648 s5), for the canonical-encoding check below.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const SEXTETS = new Uint8Array(128)
for (let i = 0; i < ALPHABET.length; i++) SEXTETS[ALPHABET.charCodeAt(i)] = i

// Node's own base64url decoder, on the hot path of every uncached token (jose's goes through atob
// and a byte loop). It is lenient, so the alphabet and the length are checked first: a length of
// 4n+1 is no base64 at all (one spare character), and jose rejects it too.
//
// It also ignores the unused low bits of the last character, so one signature has up to 15 other
// spellings that decode to the same bytes and verify, each its own cache entry and a way around
// any list keyed on the token string. RFC 4648 s3.5 lets a decoder refuse them: only the canonical
// spelling, with those bits zero, is accepted. One character is looked at, so this costs nothing.
function decodePart(part: string): Buffer | undefined {
  const { length } = part
  if (length % 4 === 1 || !BASE64URL.test(part)) return undefined
  // Of the last character's 6 bits, a part of 4n+2 characters uses 2, one of 4n+3 uses 4.
  const unused = length % 4 === 2 ? 0b1111 : length % 4 === 3 ? 0b11 : 0
  if (((SEXTETS[part.charCodeAt(length - 1)] ?? 0) & unused) !== 0) return undefined
  return Buffer.from(part, 'base64url')
}

function parseObject(part: string): JsonObject | undefined {
  const bytes = decodePart(part)
  // RFC 8259 s8.1: JSON text is UTF-8; a malformed sequence is refused, not replaced.
  if (bytes === undefined || !isUtf8(bytes)) return undefined
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch {
    return undefined
  }
  return isObject(value) ? value : undefined
}

/**
 * Decodes header and payload without trusting them. Returns `undefined` for anything that is not
 * three base64url parts of JSON objects, or that is longer than `maxLength` (checked first, so an
 * oversized token costs no decoding work).
 */
export function decodeToken(token: string, maxLength: number): DecodedToken | undefined {
  if (token.length > maxLength) return undefined
  const first = token.indexOf('.')
  const second = token.indexOf('.', first + 1)
  // Exactly three parts: a JWE (five parts) or a JWS JSON serialization is not a bearer JWT.
  if (first === -1 || second === -1 || token.indexOf('.', second + 1) !== -1) return undefined
  const header = parseObject(token.slice(0, first))
  if (header === undefined) return undefined
  const payload = parseObject(token.slice(first + 1, second))
  if (payload === undefined) return undefined
  const bytes = decodePart(token.slice(second + 1))
  if (bytes === undefined) return undefined
  // A plain Uint8Array view of the same bytes: no copy, and no Buffer in the public shape.
  const signature = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { header, payload, signingInput: token.slice(0, second), signature }
}
