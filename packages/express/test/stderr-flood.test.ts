/**
 * Express's own final handler prints `err.stack` for every error passed to `next(err)` unless the
 * env is `test`: under a flood of bad tokens that is one write per refused request. trustgate keeps
 * the contract's default (`next(err)`) and keeps that write short and fixed: a real Express 4 and
 * Express 5 app, in a child process under NODE_ENV=production, refuses 2000 bad tokens, and the
 * bytes it writes to stderr (and to stdout, the default logger's) are counted.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const REQUESTS = 2000
/** At most this many bytes per refused request on stderr: one short line. */
const MAX_STDERR_PER_REQUEST = 128
/** The default logger's sampled warn lines: a few per window, not one per request. */
const MAX_STDOUT = 16 * 1024

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
// Three kinds of bad token: not a JWT, an untrusted issuer, and a forged signature.
const BAD = [
  'not-a-jwt',
  `${b64({ alg: 'ES256', kid: 'k1' })}.${b64({ iss: 'https://evil.test', sub: 'x', aud: 'api' })}.c2ln`,
  `${b64({ alg: 'ES256', kid: 'k1' })}.${b64({ iss: 'https://issuer.test', sub: 'x', aud: 'api', exp: 4e9 })}.${'A'.repeat(86)}`,
]

async function flood(express: string) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('fixtures/flood-server.mjs', import.meta.url))],
    {
      env: { ...process.env, NODE_ENV: 'production', EXPRESS: express },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  let stderrBytes = 0
  let stderrSample = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderrBytes += chunk.length
    if (stderrSample.length < 2000) stderrSample += chunk.toString()
  })
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const match = /PORT (\d+)/.exec(stdout)
      if (match?.[1] !== undefined) resolve(match[1])
    })
    child.once('exit', (code) => {
      reject(new Error(`the server exited (${String(code)}): ${stderrSample}`))
    })
  })
  const stdoutBefore = stdout.length
  const statuses = new Map<number, number>()
  let sent = 0
  async function worker(): Promise<void> {
    while (sent < REQUESTS) {
      const token = BAD[sent++ % BAD.length] ?? ''
      const response = await fetch(`http://127.0.0.1:${port}/me`, {
        headers: { authorization: `Bearer ${token}` },
      })
      await response.arrayBuffer()
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
  return { statuses, stderrBytes, stderrSample, stdoutBytes: stdout.length - stdoutBefore }
}

describe.each(['express', 'express4'])('%s under NODE_ENV=production', (express) => {
  it(`writes at most ${String(MAX_STDERR_PER_REQUEST)} bytes of stderr per refused request, over ${String(REQUESTS)} bad tokens`, async () => {
    const { statuses, stderrBytes, stderrSample, stdoutBytes } = await flood(express)
    expect([...statuses]).toEqual([[401, REQUESTS]])
    // The final handler still logs each error (the contract's default), as one short line.
    console.info(
      `${express}: ${String(stderrBytes)} bytes of stderr (${(stderrBytes / REQUESTS).toFixed(1)} per request), ${String(stdoutBytes)} of stdout, for ${String(REQUESTS)} refused requests`,
    )
    expect(stderrSample).not.toMatch(/\n\s+at /)
    expect(stderrBytes).toBeLessThanOrEqual(REQUESTS * MAX_STDERR_PER_REQUEST)
    expect(stdoutBytes).toBeLessThanOrEqual(MAX_STDOUT)
    for (const token of BAD) expect(stderrSample).not.toContain(token)
  })
})
