/**
 * Runs the `trustgate` bin as users run it: a child process of Node, found through the package's
 * own `bin` field, with standard input piped in and both output streams captured.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)
const manifest = require.resolve('@trustgate/cli/package.json')
const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: { trustgate: string } }

/** The built bin of @trustgate/cli (run `npx tsc -b` first). */
export const CLI_BIN = join(dirname(manifest), bin.trustgate)

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `trustgate ...args`, writes `stdin` (if any) and waits for the exit. */
export function runCli(args: readonly string[], stdin?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 20_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(stdin ?? '')
  })
}
