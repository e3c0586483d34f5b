/**
 * OpenID Connect Discovery 1.0 s4: the issuer's metadata names its `jwks_uri`. Its `issuer` must
 * equal the configured one exactly (s4.3), or a mix-up lets one provider stand in for another.
 */
import { checkUrl, fetchJson, FetchError, isLoopbackHost } from './fetch.js'
import { isObject } from './token.js'

/** The metadata URL of an issuer: `<issuer>/.well-known/openid-configuration` (s4.1). */
export function discoveryUrl(issuer: string): URL {
  const base = issuer.endsWith('/') ? issuer.slice(0, -1) : issuer
  return new URL(`${base}/.well-known/openid-configuration`)
}

/**
/**
 * Checks the `jwks_uri` of an issuer's metadata, read from `source`. Returns an error sentence, or
 * the URL. Beyond the rule of a configured URL (`https:`, or `http:` on a loopback host), the
 * document is the issuer's, not ours, so it must not send the API to its own host: an `https:`
 * issuer's document naming `http://localhost/...` was server-side request forgery toward the
 * API's loopback services (issue 9, item 9). So the URL must be `https:` unless the metadata
 * itself was read over `http:` from a loopback host (a development issuer, at its own address or
 * at a configured `discoveryUrl`), and may name a loopback host only if the metadata came from one.
 */
export function checkJwksUri(source: URL, value: unknown): URL | string {
  const url = checkUrl(value)
  if (typeof url === 'string') return url
  const loopbackSource = isLoopbackHost(source.hostname)
  if (url.protocol !== 'https:' && !(source.protocol === 'http:' && loopbackSource)) {
    return 'must use https: as the metadata does'
  }
  if (isLoopbackHost(url.hostname) && !loopbackSource) {
    return 'must not name a loopback host: the metadata is not served from one'
  }
  return url
}

/**
 * Fetches the issuer's metadata (from `metadataUrl`, by default {@link discoveryUrl}) and returns its
 * checked `jwks_uri`. Throws {@link FetchError}.
 */
export async function discoverJwksUri(
  issuer: string,
  timeoutMs: number,
  metadataUrl: URL = discoveryUrl(issuer),
): Promise<URL> {
  const metadata = await fetchJson(metadataUrl, timeoutMs)
  if (!isObject(metadata)) throw new FetchError('discovery document is not a JSON object')
  if (metadata.issuer !== issuer) {
    throw new FetchError('discovery document names another issuer')
  }
  const url = checkJwksUri(metadataUrl, metadata.jwks_uri)
  if (typeof url === 'string') throw new FetchError(`discovery jwks_uri ${url}`)
  return url
}
