/**
 * A real `redis-server` (the Debian package) for the tests: started on a free port of 127.0.0.1
 * under a temporary directory, with nothing persisted, and stopped when the tests end. A test can
 * stop it (an outage), freeze it (a Redis that accepts connections but never answers) and start
 * it again on the same port. No mocked Redis anywhere.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestRedis {
  readonly port: number
  readonly url: string
  /** Stops the server (SIGTERM, nothing saved): clients see their connections close. */
  stop(): Promise<void>
  /** Starts it again on the same port, empty. */
  start(): Promise<void>
  /** SIGSTOP: connections stay open, nothing is answered. */
  freeze(): void
  /** SIGCONT after {@link TestRedis.freeze}. */
  thaw(): void
  /** Stops it for good and removes its directory. */
  close(): Promise<void>
}

const running = new Set<ChildProcess>()
// A test run that dies must not leave a server behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** The redis-server binary, or a clear error saying how to install it. */
export function redisServerPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' })
  const path = found.stdout.trim()
  if (found.status !== 0 || path === '') {
    throw new Error(
      'redis-server is not installed: apt-get install -y redis-server (.ci/run does it)',
    )
  }
  return path
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** Starts a redis-server for this test file. */
export async function startRedis(): Promise<TestRedis> {
  const binary = redisServerPath()
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'trustgate-redis-'))
  let child: ChildProcess | undefined

  async function start(): Promise<void> {
    if (child !== undefined) return
    const started = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--daemonize',
        'no',
      ],
      { stdio: 'ignore' },
    )
    child = started
    running.add(started)
    started.once('exit', () => running.delete(started))
    const deadline = Date.now() + 10_000
    while (!(await canConnect(port))) {
      if (started.exitCode !== null) throw new Error(`redis-server exited (${started.exitCode})`)
      if (Date.now() > deadline) throw new Error('redis-server did not start within 10 s')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  async function stop(): Promise<void> {
    const current = child
    if (current === undefined) return
    child = undefined
    if (current.exitCode === null && current.signalCode === null) {
      const exited = new Promise((resolve) => current.once('exit', resolve))
      current.kill('SIGCONT')
      current.kill('SIGTERM')
      await exited
    }
  }

  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    freeze() {
      child?.kill('SIGSTOP')
    },
    thaw() {
      child?.kill('SIGCONT')
    },
    async close() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
