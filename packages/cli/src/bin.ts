#!/usr/bin/env node
/** The `trustgate` command. See {@link run} for what it does and its exit codes. */
import { run } from './index.js'
import { readStdin } from './inspect/stdin.js'

process.exitCode = await run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  stdin: readStdin,
})
