/**
 * The two Redis clients users already have, behind one small driver: node-redis (`redis` v4/v5)
 * and ioredis, told apart by shape so that neither is imported here. Every command goes through
 * {@link Driver.command}: refused at once while the client is not connected (we never add to an
 * offline queue), and abandoned after a timeout (an outage cannot pile up requests).
 */
import { configError, StoreUnavailableError } from '@trustgate/core'

/** What trustgate uses of a node-redis (`redis` v4/v5) client. */
export interface NodeRedisClient {
  readonly isReady: boolean
  sendCommand(args: string[]): Promise<unknown>
  duplicate(): unknown
  on(event: 'end', listener: () => void): unknown
}

/** What trustgate uses of an ioredis client. */
export interface IoRedisClient {
  readonly status: string
  call(command: string, ...args: string[]): Promise<unknown>
  duplicate(): unknown
  on(event: 'end', listener: () => void): unknown
}

/** A node-redis or an ioredis client, connected (or connecting) by the application. */
export type RedisClient = NodeRedisClient | IoRedisClient

/** The push channel of one subscription. */
export interface Subscription {
  close(): Promise<void>
}

/** One client's way to send commands and to subscribe. */
export interface Driver {
  readonly kind: 'node-redis' | 'ioredis'
  /** Sends one command; rejects with StoreUnavailableError when Redis cannot answer in time. */
  command(args: string[]): Promise<unknown>
  /**
   * Subscribes a connection of its own (the client's `duplicate()`) to `channel`. `onStatus(true)`
   * once subscribed (again after a reconnect), `false` when the connection drops.
   */
  subscribe(
    channel: string,
    onMessage: (message: string) => void,
    onStatus: (live: boolean) => void,
  ): Subscription
  /** Calls `listener` once the application's client has ended for good (quit, close). */
  onEnd(listener: () => void): void
}

function isFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === 'function'
}

// What the duplicates are, for the calls we make on them: the client types of both libraries.
interface NodeRedisSubscriber {
  connect(): Promise<unknown>
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>
  on(event: string, listener: (...args: unknown[]) => void): unknown
  destroy?(): void
  disconnect?(): Promise<unknown>
}
interface IoRedisSubscriber {
  readonly status: string
  subscribe(channel: string): Promise<unknown>
  on(event: string, listener: (...args: unknown[]) => void): unknown
  disconnect(): void
}

function withTimeout(send: () => Promise<unknown>, timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined
  const sent = send()
  // The command may still settle after we gave up on it: nobody waits for it then.
  sent.catch(() => undefined)
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new StoreUnavailableError(`Redis did not answer within ${timeoutMs} ms`))
    }, timeoutMs)
    // A pending command must not keep the process alive on its own.
    timer.unref()
  })
  return Promise.race([sent, timeout]).finally(() => {
    clearTimeout(timer)
  })
}

function unavailable(error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error
  // A reply error (a script that failed) or a connection error: either way Redis did not answer.
  const message = error instanceof Error ? error.message : 'unknown error'
  return new StoreUnavailableError(`Redis failed: ${message.slice(0, 200)}`)
}

// Not connected: answer now instead of joining the client's offline queue.
async function command(
  ready: boolean,
  send: () => Promise<unknown>,
  timeoutMs: number,
): Promise<unknown> {
  if (!ready) throw new StoreUnavailableError('Redis is not connected')
  try {
    return await withTimeout(send, timeoutMs)
  } catch (error) {
    throw unavailable(error)
  }
}

function nodeRedis(client: NodeRedisClient, timeoutMs: number): Driver {
  return {
    kind: 'node-redis',
    command(args) {
      return command(client.isReady, () => client.sendCommand(args), timeoutMs)
    },
    subscribe(channel, onMessage, onStatus) {
      const subscriber = client.duplicate() as NodeRedisSubscriber
      let subscribed = false
      const state = { closed: false }
      // Without an error listener, a refused reconnect would crash the process.
      subscriber.on('error', () => undefined)
      subscriber.on('ready', () => {
        // node-redis subscribes again by itself after a reconnect.
        if (subscribed && !state.closed) onStatus(true)
      })
      for (const event of ['end', 'reconnecting']) {
        subscriber.on(event, () => {
          onStatus(false)
        })
      }
      const started = (async () => {
        await subscriber.connect()
        await subscriber.subscribe(channel, onMessage)
        subscribed = true
        if (!state.closed) onStatus(true)
      })()
      started.catch(() => {
        onStatus(false)
      })
      return {
        async close() {
          state.closed = true
          onStatus(false)
          // v5 has destroy(); v4 only disconnect().
          if (subscriber.destroy !== undefined) subscriber.destroy()
          else await subscriber.disconnect?.()
        },
      }
    },
    onEnd(listener) {
      client.on('end', listener)
    },
  }
}

function ioRedis(client: IoRedisClient, timeoutMs: number): Driver {
  return {
    kind: 'ioredis',
    command([name, ...args]) {
      return command(client.status === 'ready', () => client.call(name ?? '', ...args), timeoutMs)
    },
    subscribe(channel, onMessage, onStatus) {
      const subscriber = client.duplicate() as IoRedisSubscriber
      const state = { subscribed: false, closed: false }
      // Subscribes on the first `ready`; after a reconnect ioredis subscribes again by itself
      // (autoResubscribe) before it says `ready`. With the offline queue off, a subscribe sent
      // before `ready` would fail, so none is.
      function subscribe(): void {
        subscriber.subscribe(channel).then(
          () => {
            state.subscribed = true
            if (!state.closed) onStatus(true)
          },
          () => {
            onStatus(false)
          },
        )
      }
      subscriber.on('error', () => undefined)
      subscriber.on('message', (from, message) => {
        if (from === channel && typeof message === 'string') onMessage(message)
      })
      subscriber.on('ready', () => {
        if (state.closed) return
        if (state.subscribed) onStatus(true)
        else subscribe()
      })
      subscriber.on('close', () => {
        onStatus(false)
      })
      if (subscriber.status === 'ready') subscribe()
      return {
        close() {
          state.closed = true
          onStatus(false)
          subscriber.disconnect()
          return Promise.resolve()
        },
      }
    },
    onEnd(listener) {
      client.on('end', listener)
    },
  }
}

/** The driver of a node-redis or ioredis client, told apart by shape. */
export function createDriver(client: unknown, timeoutMs: number): Driver {
  if (typeof client === 'object' && client !== null) {
    const shape = client as Record<string, unknown>
    if (isFunction(shape.duplicate) && isFunction(shape.on)) {
      if (isFunction(shape.sendCommand) && typeof shape.isReady === 'boolean') {
        return nodeRedis(client as NodeRedisClient, timeoutMs)
      }
      if (isFunction(shape.call) && typeof shape.status === 'string') {
        return ioRedis(client as IoRedisClient, timeoutMs)
      }
    }
  }
  throw configError(
    'client',
    'must be a node-redis (redis v4/v5) createClient() client or an ioredis client',
  )
}
