/**
 * The request context the plugin hands the core: core's lazy `NodeRequestContext` over
 * `request.raw`, with Fastify's request line target, request id and client address.
 */
import { NodeRequestContext } from '@trustgate/core'
import type { FastifyRequest } from 'fastify'

/** What the core may read of a request, each read only if a check or a log line needs it. */
export class LogContext extends NodeRequestContext<FastifyRequest> {
  // DPoP's htu: the request line's own target (`originalUrl`, before any rewriteUrl).
  protected get target(): string {
    return this.request.originalUrl
  }
  get reqId(): string {
    return this.request.id
  }
  get remoteAddress(): string {
    return this.request.ip
  }
}
