/**
 * The request context the middleware hands the core: core's lazy `NodeRequestContext` over the
 * request (an Express request is the Node `IncomingMessage`), with Express's request line target,
 * request id and client address.
 */
import { NodeRequestContext } from '@trustgate/core'
import type { Request } from 'express'

/** What the core may read of a request, each read only if a check or a log line needs it. */
export class LogContext extends NodeRequestContext<Request> {
  // DPoP's htu: the request line's own target (`originalUrl`: mounted routers rewrite `req.url`).
  protected get target(): string {
    return this.request.originalUrl
  }
  get reqId(): string | number | undefined {
    const id = (this.request as { id?: unknown }).id
    return typeof id === 'string' || typeof id === 'number' ? id : undefined
  }
  get remoteAddress(): string | undefined {
    return this.request.ip ?? this.request.socket.remoteAddress
  }
}
