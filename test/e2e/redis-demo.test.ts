/**
 * The Redis demo (examples/redis/demo.js) run as users run it: two instances and a real
 * redis-server of its own; it must answer every call as expected and end by itself.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const DEMO = fileURLToPath(new URL('../../examples/redis/demo.js', import.meta.url))

describe('the Redis demo', () => {
  it('shows a revocation through one instance refused by the other, and exits 0 on its own', async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>(
      (resolve, reject) => {
        const child = spawn(process.execPath, [DEMO], {
          stdio: ['ignore', 'pipe', 'inherit'],
          timeout: 30_000,
        })
        let out = ''
        child.stdout.setEncoding('utf8')
        child.stdout.on('data', (chunk: string) => (out += chunk))
        child.on('error', reject)
        child.on('close', (exit) => resolve({ code: exit, stdout: out }))
      },
    )
    expect(code).toBe(0)
    expect(stdout).toMatch(/^ {2}B \(express\) {2}GET \/me +401 {2}The token has been revoked$/m)
    expect(stdout).toMatch(/^ {2}B \(express\) {2}POST \/claim +200 {2}\{"first":false\}$/m)
    expect(stdout).toMatch(/^ {2}B \(express\) {2}GET \/me +401 {2}.*DPoP proof.*$/m)
    expect(stdout).toMatch(/^every answer was the expected one$/m)
  })
})
