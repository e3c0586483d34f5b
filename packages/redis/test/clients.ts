/**
 * Real clients of both libraries, configured as the README advises: no offline queue, quick
 * reconnects. Each test file closes what it opened.
 */
import { once } from 'node:events'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import type { RedisClient } from '../src/index.js'

export type ClientKind = 'node-redis' | 'ioredis'
export const CLIENT_KINDS: readonly ClientKind[] = ['node-redis', 'ioredis']

export interface TestClient {
  readonly client: RedisClient
  /** A raw command, for the test to look at what Redis holds. */
  send(args: string[]): Promise<unknown>
  quit(): Promise<void>
}

export async function connectClient(kind: ClientKind, port: number): Promise<TestClient> {
  if (kind === 'node-redis') {
    const client = createClient({
      url: `redis://127.0.0.1:${port}`,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: () => 50, connectTimeout: 1000 },
    })
    client.on('error', () => undefined)
    await client.connect()
    return {
      client,
      send: (args) => client.sendCommand(args),
      async quit() {
        if (client.isOpen) client.destroy()
      },
    }
  }
  const client = new Redis(port, '127.0.0.1', {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: () => 50,
  })
  client.on('error', () => undefined)
  if (client.status !== 'ready') await once(client, 'ready')
  return {
    client,
    send: ([name, ...args]) => client.call(name!, ...args),
    async quit() {
      client.disconnect()
    },
  }
}

/** Waits until `check` holds, polling; throws after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
