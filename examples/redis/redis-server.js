/**
 * Starts a throwaway `redis-server` on a free loopback port, without persistence, in a temporary
 * directory: what the Redis demo and the Redis bench need (the tests' own helper,
 * test/helpers/redis.ts, also stops, freezes and restarts it mid-run).
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

async function freePort() {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Resolves once the server accepts connections: `{ port, url, close() }`. */
export async function startRedisServer(prefix = 'trustgate-redis-') {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
  const child = spawn('redis-server', [...args, '--dir', dir], { stdio: 'ignore' })
  for (;;) {
    const up = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => (socket.destroy(), resolve(true)))
      socket.once('error', () => resolve(false))
    })
    if (up) break
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return {
    port,
    url: `redis://127.0.0.1:${String(port)}`,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await once(child, 'exit')
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
