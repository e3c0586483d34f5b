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
  /** The header's base64url segment, for {@link HeaderCache.remember}. */
  readonly headerSegment: string
}

// RFC 7515 s7.1 and s2: three parts of base64url without padding, checked in one pass over the
// whole token rather than one per part. No part may be empty.
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/** True for a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// The value of each base64url character (RFC 4648 s5), for the canonical-encoding check below.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const SEXTETS = new Uint8Array(128)
for (let i = 0; i < ALPHABET.length; i++) SEXTETS[ALPHABET.charCodeAt(i)] = i

// Node's own base64url decoder, on the hot path of every uncached token (jose's goes through atob
// and a byte loop). It is lenient, so the alphabet (COMPACT, over the whole token) and the length
// are checked first: a length of 4n+1 is no base64 at all (one spare character), and jose rejects it
// too.
//
// It also ignores the unused low bits of the last character, so one signature has up to 15 other
// spellings that decode to the same bytes and verify, each its own cache entry and a way around
// any list keyed on the token string. RFC 4648 s3.5 lets a decoder refuse them: only the canonical
// spelling, with those bits zero, is accepted. One character is looked at, so this costs nothing.
function decodeBase64url(part: string): Buffer | undefined {
  const { length } = part
  if (length % 4 === 1) return undefined
  // Of the last character's 6 bits, a part of 4n+2 characters uses 2, one of 4n+3 uses 4.
  const unused = length % 4 === 2 ? 0b1111 : length % 4 === 3 ? 0b11 : 0
  if (((SEXTETS[part.charCodeAt(length - 1)] ?? 0) & unused) !== 0) return undefined
  return Buffer.from(part, 'base64url')
}

// A part whose alphabet is checked already.
function parseObject(part: string): JsonObject | undefined {
  const bytes = decodeBase64url(part)
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
 * oversized token costs no decoding work). With `headers`, a header segment seen before in a
 * verified token is not decoded again.
 */
export function decodeToken(
  token: string,
  maxLength: number,
  headers?: HeaderCache,
): DecodedToken | undefined {
  // Exactly three parts: a JWE (five parts) or a JWS JSON serialization is not a bearer JWT.
  if (token.length > maxLength || !COMPACT.test(token)) return undefined
  const first = token.indexOf('.')
  const second = token.indexOf('.', first + 1)
  const headerSegment = token.slice(0, first)
  const header = headers?.get(headerSegment) ?? parseObject(headerSegment)
  if (header === undefined) return undefined
  const payload = parseObject(token.slice(first + 1, second))
  if (payload === undefined) return undefined
  // A Buffer is a Uint8Array: no view of it is made, on every token.
  const signature = decodeBase64url(token.slice(second + 1))
  if (signature === undefined) return undefined
  return { header, payload, signingInput: token.slice(0, second), signature, headerSegment }
}

/** Most header segments a {@link HeaderCache} keeps. */
export const HEADER_CACHE_MAX = 64
/** Longest header segment a {@link HeaderCache} keeps, in characters. */
export const HEADER_CACHE_MAX_SEGMENT = 512

/**
 * The parsed headers of tokens already verified, keyed on their base64url segment: most tokens of
 * an issuer share their header byte for byte (`alg`, `typ`, `kid`), so it is decoded and parsed
 * once, not for every token seen for the first time. Bounded in entries and in segment length,
 * filled only with headers of tokens that passed every check (a forger cannot fill it), its values
 * frozen (shared by every token that carries the segment). A header is not a credential, and no
 * token is kept; nothing here is published or logged.
 */
export class HeaderCache {
  readonly #headers = new Map<string, JsonObject>()

  /** The parsed header of `segment`, if a verified token carried it. */
  get(segment: string): JsonObject | undefined {
    return this.#headers.get(segment)
  }

  /** Keeps the parsed header of a verified token, the oldest one making room when full. */
  remember(segment: string, header: JsonObject): void {
    if (segment.length > HEADER_CACHE_MAX_SEGMENT || this.#headers.has(segment)) return
    if (this.#headers.size >= HEADER_CACHE_MAX) {
      const oldest = this.#headers.keys().next()
      if (oldest.done !== true) this.#headers.delete(oldest.value)
    }
    // A copy made from bytes: `segment` is a slice of the token, and V8 keeps a slice's whole
    // parent string alive. The key must hold the header's characters and nothing of the token.
    const key = Buffer.from(segment, 'latin1').toString('latin1')
    this.#headers.set(key, freezeHeader(header))
  }
}

// A header is JSON: objects and arrays to any depth (a `jwk` member, say), frozen all the way.
function freezeHeader(header: JsonObject): JsonObject {
  const stack: object[] = [header]
  for (let value = stack.pop(); value !== undefined; value = stack.pop()) {
    Object.freeze(value)
    for (const item of Object.values(value) as unknown[]) {
      if (typeof item === 'object' && item !== null && !Object.isFrozen(item)) stack.push(item)
    }
  }
  return header
}
