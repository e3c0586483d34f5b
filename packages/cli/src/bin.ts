#!/usr/bin/env node
/** The `trustgate` command. See {@link run} for what it does and its exit codes. */
import { MAX_STDIN_BYTES, run, UsageError } from './index.js'

async function readStdin(): Promise<string> {
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

process.exitCode = await run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  stdin: readStdin,
})
