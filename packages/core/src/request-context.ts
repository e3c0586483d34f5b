/**
 * The request context both adapters hand the core, built from a Node `IncomingMessage`: what the
 * core may read of a request (method, `htu` URL, DPoP headers, client certificate), each read
 * lazily, only when a check or a log line needs it. Fastify and Express differ only in where the
 * `IncomingMessage` sits, in the request line's own target and in the request id and address,
 * so they subclass this and add those; the reads that decide a check are written once, here.
 */
import type { IncomingMessage } from 'node:http'
import { dpopValues } from './dpop.js'
import { requestUrl } from './htu.js'
import type { RequestContext } from './log.js'
import { peerCertificate, type ClientCertificate } from './mtls.js'

/**
 * The lazy {@link RequestContext} of a request `R` of a web framework whose Node request is
 * `raw`. Subclasses give the request line's own target (before any rewrite) and, for log lines,
 * the request id and remote address.
 */
export abstract class NodeRequestContext<R> implements RequestContext {
  /** The framework's request, as the app's `origin` and `getClientCertificate` take it. */
  protected readonly request: R
  readonly #raw: IncomingMessage
  readonly #getClientCertificate: ((request: R) => ClientCertificate | null | undefined) | undefined
  readonly #origin: string | ((request: R) => string) | undefined
  constructor(
    request: R,
    raw: IncomingMessage,
    getClientCertificate: ((request: R) => ClientCertificate | null | undefined) | undefined,
    origin: string | ((request: R) => string) | undefined,
  ) {
    this.request = request
    this.#raw = raw
    this.#getClientCertificate = getClientCertificate
    this.#origin = origin
  }
  /** The target of the request line, before any rewrite by the framework (`originalUrl`). */
  protected abstract get target(): string | undefined
  get method(): string | undefined {
    return this.#raw.method
  }
  // DPoP's htu: the configured origin and the request line's own target, never the Host header.
  get url(): string | undefined {
    const origin = typeof this.#origin === 'function' ? this.#origin(this.request) : this.#origin
    return requestUrl(origin, this.target)
  }
  get dpop(): string[] {
    return dpopValues(this.#raw.rawHeaders)
  }
  // One source, chosen by configuration: the forwarded one, or the socket's. Never one, then the
  // other, which would let a client pick the certificate that suits it.
  get clientCertificate(): ClientCertificate | null | undefined {
    const read = this.#getClientCertificate
    return read === undefined ? peerCertificate(this.#raw.socket) : read(this.request)
  }
}
