/**
 * OpenID Connect Discovery 1.0 s4: the issuer's metadata names its `jwks_uri`. Its `issuer` must
 * equal the configured one exactly (s4.3), or a mix-up lets one provider stand in for another.
 */
import { checkUrl, fetchJson, FetchError } from './fetch.js'
import { isObject } from './token.js'

/** The metadata URL of an issuer: `<issuer>/.well-known/openid-configuration` (s4.1). */
export function discoveryUrl(issuer: string): URL {
  const base = issuer.endsWith('/') ? issuer.slice(0, -1) : issuer
  return new URL(`${base}/.well-known/openid-configuration`)
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
  const url = checkUrl(metadata.jwks_uri)
  if (typeof url === 'string') throw new FetchError(`discovery jwks_uri ${url}`)
  return url
}
