/**
 * The one-command demo (examples/demo.js) run as users run it, in its own Node process: it must
 * pass its own checks, print the table for both APIs, and end by itself (nothing left open).
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const DEMO = fileURLToPath(new URL('../../examples/demo.js', import.meta.url))

function runDemo(): Promise<{
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
}> {
  return new Promise((resolve, reject) => {
    // The timeout kills a demo that would not end by itself, which then fails the test.
    const child = spawn(process.execPath, [DEMO], {
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 30_000,
    })
    let stdout = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => (stdout += chunk))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout })
    })
  })
}

describe('the demo', () => {
  it('answers every call as expected on both APIs and exits 0 on its own', async () => {
    const { code, signal, stdout } = await runDemo()
    expect(signal).toBeNull()
    expect(code).toBe(0)
    expect(stdout).toMatch(/^all 20 calls answered as expected/m)
    for (const api of ['fastify', 'express']) {
      expect(stdout).toMatch(
        new RegExp(`^${api} +GET /orders +orders-service \\(ES256\\) +200 `, 'm'),
      )
      expect(stdout).toMatch(
        new RegExp(`^${api} +GET /me +untrusted provider +401 +invalid_token`, 'm'),
      )
      expect(stdout).toMatch(new RegExp(`^${api} logged: .*"event":"untrusted_issuer"`, 'm'))
      // DPoP: oauth4webapi's proof passes, its replay and the token as Bearer do not.
      expect(stdout).toMatch(
        new RegExp(`^${api} +GET /orders +dpop-service, DPoP proof +200 `, 'm'),
      )
      expect(stdout).toMatch(
        new RegExp(
          `^${api} +GET /orders +dpop-service, proof replayed +401 +invalid_dpop_proof: The DPoP proof has already been used`,
          'm',
        ),
      )
      expect(stdout).toMatch(
        new RegExp(`^${api} +GET /orders +dpop-service, sent as Bearer +401 +invalid_token: `, 'm'),
      )
    }
    expect(stdout).toMatch(/^requests from the APIs to the untrusted provider: 0$/m)
    // The demo runs `trustgate doctor` against its provider and prints the verdict.
    expect(stdout).toMatch(/^\$ trustgate doctor http:\/\/127\.0\.0\.1:\d+$/m)
    expect(stdout).toMatch(/^PASS {2}issuer matches exactly/m)
    expect(stdout).toMatch(/^verdict: healthy /m)
    // Tokens are never printed: no line holds a JWT.
    expect(stdout).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/)
  })
})
