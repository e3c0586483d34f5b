/**
 * A real HTTP server on 127.0.0.1 that plays an identity provider's key endpoints: it serves
 * whatever each route is set to (a JWK Set, a discovery document, an error, a slow or huge
 * answer, a redirect) and counts the requests each path receives.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type Route =
  | {
      kind: 'json'
      body: unknown
      status?: number
      delayMs?: number
      headers?: Record<string, string>
    }
  | { kind: 'raw'; body: string | Buffer; status?: number; contentType?: string; delayMs?: number }
  | { kind: 'redirect'; location: string; status?: number }
  | { kind: 'hang' }
  | { kind: 'destroy' }
  | { kind: 'handler'; handle: (req: IncomingMessage, res: ServerResponse) => void }

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  readonly server: Server
  /** Sets what a path answers; a path with no route answers 404. */
  route(path: string, route: Route): void
  /** Requests received on `path` so far (or on every path). */
  hits(path?: string): number
  resetHits(): void
  close(): Promise<void>
}

/** Starts a server on 127.0.0.1 on a free port. */
export async function startServer(): Promise<TestServer> {
  const routes = new Map<string, Route>()
  const hits = new Map<string, number>()
  const sockets = new Set<import('node:net').Socket>()
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    hits.set(path, (hits.get(path) ?? 0) + 1)
    const route = routes.get(path)
    if (route === undefined) {
      res.writeHead(404).end()
      return
    }
    const send = (): void => {
      switch (route.kind) {
        case 'json':
          res.writeHead(route.status ?? 200, {
            'content-type': 'application/json',
            ...route.headers,
          })
          res.end(JSON.stringify(route.body))
          return
        case 'raw':
          res.writeHead(route.status ?? 200, {
            'content-type': route.contentType ?? 'application/json',
          })
          res.end(route.body)
          return
        case 'redirect':
          res.writeHead(route.status ?? 302, { location: route.location }).end()
          return
        case 'hang':
          return
        case 'destroy':
          req.socket.destroy()
          return
        case 'handler':
          route.handle(req, res)
          return
      }
    }
    const delay = 'delayMs' in route ? route.delayMs : undefined
    if (delay === undefined) send()
    else setTimeout(send, delay)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${String(port)}`,
    server,
    route: (path, route) => routes.set(path, route),
    hits: (path) =>
      path === undefined ? [...hits.values()].reduce((a, b) => a + b, 0) : (hits.get(path) ?? 0),
    resetHits: () => hits.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
