/**
 * The one way trustgate reaches the network: a GET for a JSON document (a JWK Set or OpenID
 * metadata), bounded in time and size, that follows no redirect and accepts only a 200.
 */

/** Largest JWKS or discovery document accepted, in bytes. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024

/** A failed fetch. The message names the URL (a config value) and what went wrong, never a token. */
export class FetchError extends Error {
  override name = 'FetchError'
}

/** True for a host that may be reached over plain `http:`: loopback, for development and tests. */
export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  )
}

/**
 * Parses a key-source URL and applies the transport rule: `https:`, or `http:` to a loopback host.
 * Returns an error sentence, or the URL.
 */
export function checkUrl(value: unknown): URL | string {
  if (typeof value !== 'string') return 'must be a URL string'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'must be an absolute URL'
  }
  if (url.username !== '' || url.password !== '') return 'must not carry credentials'
  if (url.protocol === 'https:') return url
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url
  return 'must use https: (http: is allowed for loopback hosts only)'
}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'))
  if (declared > maxBytes) {
    await response.body?.cancel()
    throw new FetchError(`response larger than ${String(maxBytes)} bytes`)
  }
  const chunks: Uint8Array[] = []
  let total = 0
  if (response.body === null) return new Uint8Array(0)
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel()
      throw new FetchError(`response larger than ${String(maxBytes)} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks, total)
}

/**
 * GETs `url` and parses its JSON body. Throws {@link FetchError} for a network error, a timeout,
 * any status but 200 (redirects included: a key source must not send us elsewhere), a body over
 * `maxBytes`, or a body that is not JSON.
 */
export async function fetchJson(
  url: URL,
  timeoutMs: number,
  maxBytes = MAX_DOCUMENT_BYTES,
): Promise<unknown> {
  return (await fetchDocument(url, timeoutMs, maxBytes)).body
}

/** A fetched JSON document with the response headers (for `trustgate doctor`'s caching check). */
export interface FetchedDocument {
  readonly body: unknown
  readonly headers: Headers
}

/** {@link fetchJson} with the response headers: the same limits, the same errors. */
export async function fetchDocument(
  url: URL,
  timeoutMs: number,
  maxBytes = MAX_DOCUMENT_BYTES,
): Promise<FetchedDocument> {
  // AbortSignal.timeout's timer is unref'd: a pending fetch never keeps the process alive.
  const signal = AbortSignal.timeout(timeoutMs)
  let bytes: Uint8Array
  let headers: Headers
  try {
    const response = await fetch(url, {
      signal,
      redirect: 'manual',
      headers: { accept: 'application/json, application/jwk-set+json' },
    })
    if (response.status !== 200) {
      await response.body?.cancel()
      throw new FetchError(`unexpected HTTP status ${String(response.status)}`)
    }
    headers = response.headers
    bytes = await readCapped(response, maxBytes)
  } catch (error) {
    if (error instanceof FetchError) throw error
    if (signal.aborted) throw new FetchError(`no response within ${String(timeoutMs)} ms`)
    throw new FetchError(
      `request failed: ${error instanceof Error ? error.message : 'unknown error'}`,
    )
  }
  try {
    const body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown
    return { body, headers }
  } catch {
    throw new FetchError('response is not JSON')
  }
}
