/**
 * The doctor's two downloads, the discovery document and the JWK Set, made with the core's own
 * `fetchDocument`: the verifier's limits (timeout, 1 MiB cap, no redirect, 200 only, https or
 * loopback http), so that what the doctor can fetch is what `verify` can. A failure comes back as
 * a sentence, never thrown: a network or document problem is a check's verdict, not a crash.
 */
import { fetchDocument, FetchError } from '@trustgate/core'

/** What a download gave, or why it failed. */
export type Fetched<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: string }

function fetchFailure(error: unknown): string {
  return error instanceof FetchError ? error.message : 'request failed'
}

/** The discovery document at `url`: a JSON object (OpenID Connect Discovery s4.2). */
export async function fetchMetadata(
  url: URL,
  timeoutMs: number,
): Promise<Fetched<Record<string, unknown>>> {
  try {
    const { body } = await fetchDocument(url, timeoutMs)
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new FetchError('discovery document is not a JSON object')
    }
    return { ok: true, value: body as Record<string, unknown> }
  } catch (error) {
    return { ok: false, failure: fetchFailure(error) }
  }
}

/** The JWK Set document at `url`, with the response headers (for its Cache-Control). */
export async function fetchKeySet(
  url: URL,
  timeoutMs: number,
): Promise<Fetched<{ readonly body: unknown; readonly headers: Headers }>> {
  try {
    const { body, headers } = await fetchDocument(url, timeoutMs)
    return { ok: true, value: { body, headers } }
  } catch (error) {
    return { ok: false, failure: fetchFailure(error) }
  }
}
