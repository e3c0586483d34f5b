/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728): the document that tells a client which
 * authorization servers issue tokens for this API and which scopes it knows, served at the
 * well-known URI derived from the resource identifier (s3.1), and named in every 401 challenge
 * (s5.1) so that a client that was refused can find where to get a token.
 */
import { isQuotable, isScopeToken } from './errors.js'
import { checkUrl } from './fetch.js'
import { checkOptionNames, fail } from './options.js'

/** `resourceMetadata`: what the API publishes about itself (RFC 9728 s2). */
export interface ResourceMetadataOptions {
  /**
   * The resource identifier (`resource`): the API's own `https:` URL (`http:` on a loopback host,
   * for development), without query or fragment. Its path decides where the document is served.
   */
  resource: string
  /** Issuer identifiers of the authorization servers that issue tokens for this API. */
  authorizationServers: readonly string[]
  /** `scopes_supported`: the scopes the API uses in authorization requests. */
  scopesSupported?: readonly string[]
  /** `bearer_methods_supported`. Default `['header']`, the only one trustgate reads by default. */
  bearerMethodsSupported?: readonly ('header' | 'body' | 'query')[]
  /** `resource_name`: a human-readable name of the API. */
  resourceName?: string
  /** `resource_documentation`: a URL of the API's documentation for developers. */
  resourceDocumentation?: string
  /** `resource_policy_uri`: a URL of the API's data-use policy. */
  resourcePolicyUri?: string
  /** `resource_tos_uri`: a URL of the API's terms of service. */
  resourceTosUri?: string
}

const OPTION_NAMES: readonly (keyof ResourceMetadataOptions)[] = [
  'resource',
  'authorizationServers',
  'scopesSupported',
  'bearerMethodsSupported',
  'resourceName',
  'resourceDocumentation',
  'resourcePolicyUri',
  'resourceTosUri',
]

const BEARER_METHODS = new Set(['header', 'body', 'query'])

/** What the verifier adds to the document from its own configuration. */
export interface ResourceMetadataFeatures {
  /**
   * `dpop_signing_alg_values_supported` (RFC 9728 s2, RFC 9449): the DPoP proof algorithms the
   * verifier accepts, once DPoP is configured. The verifier passes them; nothing else sets them.
   */
  readonly dpopSigningAlgValuesSupported?: readonly string[] | undefined
}

/** The validated metadata, ready to serve. */
export interface ResourceMetadata {
  /** The request path of the well-known URI (RFC 9728 s3.1), e.g. `/.well-known/oauth-protected-resource/v1`. */
  readonly path: string
  /** The full well-known URL, for the `resource_metadata` challenge attribute (s5.1). */
  readonly url: string
  /** The JSON document (s3.2), frozen. */
  readonly document: Readonly<Record<string, unknown>>
}

/** The well-known URI suffix registered by RFC 9728 s8.3. */
export const RESOURCE_METADATA_WELL_KNOWN = '/.well-known/oauth-protected-resource'

function url(value: unknown, field: string): URL {
  const checked = checkUrl(value)
  if (typeof checked === 'string') fail(field, checked)
  return checked
}

function strings(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) fail(field, 'must be an array of strings')
  for (const [i, item] of (value as unknown[]).entries()) {
    if (typeof item !== 'string' || item === '') {
      fail(`${field}[${String(i)}]`, 'must be a non-empty string')
    }
  }
  return [...(value as string[])]
}

/**
 * Validates `resourceMetadata` at start-up and builds the document and its URL. Every value is a
 * configuration value: nothing a request carries ever reaches the document or the challenge.
 */
export function resolveResourceMetadata(
  value: unknown,
  features: ResourceMetadataFeatures = {},
  field = 'resourceMetadata',
): ResourceMetadata | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null) fail(field, 'must be an object')
  checkOptionNames(value, OPTION_NAMES, field)
  const options = value as Partial<ResourceMetadataOptions>
  const resource = url(options.resource, `${field}.resource`)
  // s2: no fragment. A query is allowed by the RFC but not recommended; we refuse it, so that the
  // served path is the whole of what identifies the resource.
  if (resource.hash !== '' || resource.search !== '' || /[?#]/.test(String(options.resource))) {
    fail(`${field}.resource`, 'must have no query and no fragment')
  }
  const authorizationServers = strings(
    options.authorizationServers,
    `${field}.authorizationServers`,
  )
  if (authorizationServers.length === 0) {
    fail(`${field}.authorizationServers`, 'needs at least one issuer')
  }
  for (const [i, server] of authorizationServers.entries()) {
    url(server, `${field}.authorizationServers[${String(i)}]`)
  }
  const document: Record<string, unknown> = {
    // s3.3: the value must be identical to the identifier the well-known URL was made from.
    resource: options.resource,
    authorization_servers: authorizationServers,
  }
  if (options.scopesSupported !== undefined) {
    const scopes = strings(options.scopesSupported, `${field}.scopesSupported`)
    for (const [i, scope] of scopes.entries()) {
      if (!isScopeToken(scope)) fail(`${field}.scopesSupported[${String(i)}]`, 'is not a scope')
    }
    document.scopes_supported = scopes
  }
  const methods = strings(
    options.bearerMethodsSupported ?? ['header'],
    `${field}.bearerMethodsSupported`,
  )
  for (const [i, method] of methods.entries()) {
    if (!BEARER_METHODS.has(method)) {
      fail(`${field}.bearerMethodsSupported[${String(i)}]`, 'must be header, body or query')
    }
  }
  document.bearer_methods_supported = methods
  if (options.resourceName !== undefined) {
    if (typeof options.resourceName !== 'string') fail(`${field}.resourceName`, 'must be a string')
    document.resource_name = options.resourceName
  }
  for (const [name, key] of [
    ['resourceDocumentation', 'resource_documentation'],
    ['resourcePolicyUri', 'resource_policy_uri'],
    ['resourceTosUri', 'resource_tos_uri'],
  ] as const) {
    if (options[name] !== undefined) document[key] = url(options[name], `${field}.${name}`).href
  }
  // The hook of the DPoP support: the verifier passes its accepted proof algorithms.
  if (features.dpopSigningAlgValuesSupported !== undefined) {
    document.dpop_signing_alg_values_supported = [...features.dpopSigningAlgValuesSupported]
  }

  // s3.1: the well-known suffix goes between the host and the path; a terminating slash of the
  // path is removed first, so `https://api.example` and `https://api.example/` share one URL.
  const resourcePath = resource.pathname.replace(/\/+$/, '')
  const path = `${RESOURCE_METADATA_WELL_KNOWN}${resourcePath}`
  const wellKnown = `${resource.origin}${path}`
  // It stands inside the challenge's quoted-string (RFC 6750 s3).
  if (!isQuotable(wellKnown)) fail(`${field}.resource`, 'must be printable ASCII')
  for (const list of Object.values(document)) if (Array.isArray(list)) Object.freeze(list)
  return Object.freeze({ path, url: wellKnown, document: Object.freeze(document) })
}
