/**
 * Untrusted decoding of a compact JWS (RFC 7515 s7.1). Nothing here is believed yet: it only
 * proves the token has the shape of a JWT, so that the issuer can be looked up.
 */
import { isUtf8 } from 'node:buffer'
import { BoundedMap } from './bounded-map.js'
import { scratch } from './scratch.js'

/** A JSON object, as produced by `JSON.parse`. */
export type JsonObject = Record<string, unknown>

/** A token split and decoded, not yet verified. */
export interface DecodedToken {
  readonly header: JsonObject
  readonly payload: JsonObject
  /** The token as sent: `<header>.<payload>.<signature>`, every character checked. */
  readonly token: string
  /** The length of `<header>.<payload>`: the characters the signature covers. */
  readonly signedLength: number
  /** The signature's length in bytes, decoded. */
  readonly signatureBytes: number
  /** The header's base64url segment, for {@link HeaderCache.remember}. */
  readonly headerSegment: string
}

/** True for a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// RFC 7515 s7.1 and s2: each part is base64url without padding (RFC 4648 s5), and only its
// canonical spelling is accepted. Node's decoder is lenient: it skips characters outside the
// alphabet, takes `+` and `/` as `-` and `_`, ignores the unused low bits of the last character,
// and reads a UTF-16 code unit by its low byte (so `\u0141` decodes as `A`). Each of those gives a
// part other spellings that decode to the same bytes: another cache entry, a way around any list
// keyed on the token string, and, for the signature, a token that verifies as another one. RFC
// 4648 s3.5 lets a decoder refuse them, and so does this one, in one comparison: a part is
// accepted only if encoding what it decodes to gives it back, character for character. That
// settles the alphabet, the padding, the length (4n+1 characters are no base64 at all) and the
// last character at once, at the cost of one encoding into the reused buffer, where a regex over
// the whole token cost more (0.56 µs against 0.27 µs for an 897-character token, issue 15).
function decodeInto(part: string, into: Buffer): number | undefined {
  const length = into.write(part, 0, 'base64url')
  return into.toString('base64url', 0, length) === part ? length : undefined
}

// A part whose bytes must be a UTF-8 JSON object: the header or the payload.
function parseObject(part: string): JsonObject | undefined {
  const into = scratch(part.length)
  const length = decodeInto(part, into)
  if (length === undefined) return undefined
  const text = into.toString('utf8', 0, length)
  // RFC 8259 s8.1: JSON text is UTF-8; a malformed sequence is refused, not replaced. Node's
  // decoder replaces each one with U+FFFD, so a text without it came from valid UTF-8, and the
  // bytes are checked only when it is there (a valid token may carry U+FFFD itself).
  if (text.includes('\uFFFD') && !isUtf8(into.subarray(0, length))) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  return isObject(value) ? value : undefined
}

/**
 * Decodes header and payload without trusting them. Returns `undefined` for anything that is not
 * three non-empty base64url parts, the first two of them JSON objects, or that is longer than
 * `maxLength` (checked first, so an oversized token costs no decoding work). With `headers`, a
 * header segment seen before in a verified token is not decoded again. The signature is checked
 * for its spelling here and decoded again by {@link verifyDecoded} (signed-bytes.ts), for the one
 * crypto call that reads it.
 */
export function decodeToken(
  token: string,
  maxLength: number,
  headers?: HeaderCache,
): DecodedToken | undefined {
  if (token.length > maxLength) return undefined
  // Exactly three parts: a JWE (five parts) or a JWS JSON serialization is not a bearer JWT. A
  // third dot, in the signature, does not survive the signature's canonical check below.
  const first = token.indexOf('.')
  const second = first < 1 ? -1 : token.indexOf('.', first + 2)
  if (second < 0 || second === token.length - 1) return undefined
  // A remembered segment is one that was decoded and checked, character for character.
  const remembered = headers?.find(token, first)
  const headerSegment = remembered?.segment ?? token.slice(0, first)
  const header = remembered?.header ?? parseObject(headerSegment)
  if (header === undefined) return undefined
  const payload = parseObject(token.slice(first + 1, second))
  if (payload === undefined) return undefined
  const signature = token.slice(second + 1)
  const signatureBytes = decodeInto(signature, scratch(signature.length))
  if (signatureBytes === undefined) return undefined
  return { header, payload, token, signedLength: second, signatureBytes, headerSegment }
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
  readonly #headers = new BoundedMap<string, RememberedHeader>(HEADER_CACHE_MAX)
  // The entry found last: most tokens come from one issuer and one key, so the next token
  // usually starts with the same segment, and a comparison in place spares the slice of the
  // token and the hashing of it that a lookup in the map needs.
  #last: RememberedHeader | undefined

  /** The remembered header that `token` starts with, its segment `length` characters long. */
  find(token: string, length: number): RememberedHeader | undefined {
    const last = this.#last
    if (last !== undefined && last.segment.length === length && token.startsWith(last.segment)) {
      return last
    }
    const found = this.#headers.get(token.slice(0, length))
    if (found !== undefined) this.#last = found
    return found
  }

  /** Keeps the parsed header of a verified token, the oldest one making room when full. */
  remember(segment: string, header: JsonObject): void {
    // A header found here (the last one found, most often) is already kept: no lookup for it.
    if (header === this.#last?.header) return
    if (segment.length > HEADER_CACHE_MAX_SEGMENT || this.#headers.has(segment)) return
    // A copy made from bytes: `segment` is a slice of the token, and V8 keeps a slice's whole
    // parent string alive. The key must hold the header's characters and nothing of the token.
    const key = Buffer.from(segment, 'latin1').toString('latin1')
    const evicted = this.#headers.add(
      key,
      Object.freeze({ segment: key, header: freezeHeader(header) }),
    )
    if (evicted !== undefined && this.#last?.segment === evicted) this.#last = undefined
  }
}

/** A header segment of a verified token and its parsed, frozen header. */
export interface RememberedHeader {
  readonly segment: string
  readonly header: JsonObject
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
