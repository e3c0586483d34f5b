/**
 * The two errors the commands throw for the command line to turn into exit codes. Neither message
 * ever holds a token: a token may be pasted where an argument was expected.
 */

/** A usage or configuration problem: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** A token that is not a JWT at all: exit code 1, like any refused token. */
export class MalformedTokenError extends Error {
  override name = 'MalformedTokenError'
}
