/**
 * The untrusted part of `inspect`: the token decoded with the verifier's own decoder, without
 * verifying anything, and its time claims (`exp`, `nbf`, `iat`, `auth_time`) as ISO dates with
 * the time from now.
 */
import { decodeUntrusted, type UntrustedToken } from '@trustgate/core'
import { MalformedTokenError } from '../errors.js'

/** A time claim as an ISO date and as the time from now. */
export interface HumanTime {
  readonly date: string
  readonly relative: string
}

const TIME_CLAIMS = ['exp', 'nbf', 'iat', 'auth_time'] as const

/** "in 4 min 59 s" / "3 h 2 min ago". */
export function relativeTime(seconds: number, nowSeconds: number): string {
  const delta = Math.round(seconds - nowSeconds)
  let rest = Math.abs(delta)
  const parts: string[] = []
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['min', 60],
  ] as const) {
    if (rest >= size) {
      parts.push(`${String(Math.floor(rest / size))} ${unit}`)
      rest %= size
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${String(rest)} s`)
  const span = parts.slice(0, 2).join(' ')
  return delta === 0 ? 'now' : delta > 0 ? `in ${span}` : `${span} ago`
}

/** Decodes `token`, untrusted; not a JWT is a {@link MalformedTokenError}. */
export function decode(token: string): UntrustedToken {
  const decoded = decodeUntrusted(token)
  if (decoded === undefined) {
    throw new MalformedTokenError(
      'the input is not a JWT: three base64url parts, the first two JSON objects',
    )
  }
  return decoded
}

/** The time claims of `claims` that hold a plausible time, in human form. */
export function humanTimes(
  claims: Readonly<Record<string, unknown>>,
  nowMs: number,
): Record<string, HumanTime> {
  const times: Record<string, HumanTime> = {}
  for (const name of TIME_CLAIMS) {
    const value = claims[name]
    if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) < 8.64e12) {
      times[name] = {
        date: new Date(value * 1000).toISOString(),
        relative: relativeTime(value, nowMs / 1000),
      }
    }
  }
  return times
}
