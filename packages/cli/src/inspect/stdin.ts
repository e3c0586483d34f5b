/**
 * Reading the token for `inspect`: from standard input only (never from argv, where it would land
 * in shell history and in `ps`), at most 1 MiB, with a `Bearer ` prefix pasted from a header
 * dropped.
 */
import { UsageError } from '../errors.js'

/** Longest standard input `inspect` reads: far above any token a verifier accepts. */
export const MAX_STDIN_BYTES = 1024 * 1024

/** All of the process's standard input, refused over {@link MAX_STDIN_BYTES}. */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('paste the token, then press Ctrl-D\n')
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    total += chunk.byteLength
    if (total > MAX_STDIN_BYTES) throw new UsageError('standard input is larger than 1 MiB')
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Takes the token out of what was read: surrounding whitespace, and a `Bearer ` prefix as pasted
 * from a header, are dropped.
 */
export function tokenFromInput(input: string): string {
  const token = input.trim().replace(/^bearer\s+/i, '')
  if (token === '') throw new UsageError('no token on standard input')
  return token
}
