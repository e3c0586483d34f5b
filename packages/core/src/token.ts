/**
 * Untrusted decoding of a compact JWS (RFC 7515 s7.1). Nothing here is believed yet: it only
 * proves the token has the shape of a JWT, so that the issuer can be looked up.
 */
import { base64url } from 'jose'

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
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** True for a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function decodePart(part: string): Uint8Array | undefined {
  if (!BASE64URL.test(part)) return undefined
  try {
    return base64url.decode(part)
  } catch {
    return undefined
  }
}

function parseObject(part: string): JsonObject | undefined {
  const bytes = decodePart(part)
  if (bytes === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(utf8.decode(bytes))
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
  const signature = decodePart(token.slice(second + 1))
  if (signature === undefined) return undefined
  return { header, payload, signingInput: token.slice(0, second), signature }
}
