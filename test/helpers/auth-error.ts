/**
 * Assertions shared by the tests that expect a rejection: the error is an AuthError with the
 * expected code, reason and status, its challenge and body are consistent with each other, and the
 * token string appears in none of them nor in any captured log line.
 */
import { expect } from 'vitest'

/** What a test expects of a rejection. */
export interface ExpectedRejection {
  code: string
  reason: string
  status: number
}

/** The fields of an AuthError, read without importing the class (src and dist both fit). */
export interface AuthErrorShape {
  name: string
  message: string
  stack?: string
  code: string
  reason: string
  status: number
  statusCode: number
  headers: Record<string, string>
  toJSON(): { error: string; error_description: string }
}

/** Awaits `promise`, which must reject; returns what it rejected with. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the promise to reject, but it resolved')
}

/** Asserts that nothing the client or the logs can see contains `token`. */
export function expectNoLeak(
  token: string,
  error: AuthErrorShape,
  logLines: readonly string[] = [],
): void {
  // The signature alone is enough to replay nothing, but it is the part unique to this token.
  // (Strings under 8 characters, like a test's 'abc', occur by chance in any text: skip them.)
  const secrets = [token, token.split('.')[2] ?? token].filter((s) => s.length >= 8)
  const visible = [
    error.message,
    error.stack ?? '',
    JSON.stringify(error.toJSON()),
    JSON.stringify(error.headers),
    ...logLines,
  ]
  for (const secret of secrets) {
    for (const text of visible) expect(text.includes(secret)).toBe(false)
  }
}

/**
 * Asserts that `promise` rejects with an AuthError matching `expected`, with an RFC 6750 challenge
 * and body that agree with it and no trace of `token`. Returns the error.
 */
export async function expectRejection(
  promise: Promise<unknown>,
  expected: ExpectedRejection,
  token: string,
  logLines: readonly string[] = [],
  realm = 'api',
): Promise<AuthErrorShape> {
  const error = (await rejectionOf(promise)) as AuthErrorShape
  expect(error).toBeInstanceOf(Error)
  expect(error.name).toBe('AuthError')
  expect({ code: error.code, reason: error.reason, status: error.status }).toEqual(expected)
  expect(error.statusCode).toBe(expected.status)
  expect(error.toJSON()).toEqual({ error: expected.code, error_description: error.message })
  expect(error.headers['WWW-Authenticate']).toBe(
    `Bearer realm="${realm}", error="${expected.code}", error_description="${error.message}"`,
  )
  expectNoLeak(token, error, logLines)
  return error
}

/** Shorthand for the expectations of an `invalid_token` rejection. */
export function invalidToken(reason: string): ExpectedRejection {
  return { code: 'invalid_token', reason, status: 401 }
}
