/**
 * OpenAPI for guarded routes, with nothing to write by hand: when `@fastify/swagger` is present,
 * every route guarded by a trustgate guard comes out of `app.swagger()` with its security
 * requirement (the bearer scheme and the scopes its guards need) and its 401/403 responses.
 *
 * How, and why this way: a route's `schema.response` also drives Fastify's serializer, so adding
 * 401/403 there would change the bodies the app sends. Instead the route schema gets an `x-`
 * marker, which Fastify ignores and @fastify/swagger copies into the operation as it is; the
 * swagger decorator is wrapped so that the generated document turns each marker into `security`
 * and `responses`, and gains the `bearerAuth` security scheme.
 */
import type { Requirement } from '@trustgate/core'
import type { FastifyInstance, RouteOptions } from 'fastify'

/** The security scheme's name in `components.securitySchemes`. */
export const SECURITY_SCHEME = 'bearerAuth'

const MARKER = 'x-trustgate'
const WRAPPED = Symbol('trustgate.swagger')

interface Marker {
  /** OpenAPI security requirements: alternatives, each with the scopes it needs. */
  readonly security: Record<string, string[]>[]
  /** A guard may answer 403 (scopes or a rule over the principal). */
  readonly forbidden: boolean
  /** trustgate answers with its own JSON body (`respond: true`). */
  readonly body: boolean
}

/**
 * The security requirements of a route's guards: the scopes every `requireScopes` needs, times
 * the alternatives of each `requireAnyScope` (OpenAPI lists alternatives as separate objects).
 */
function securityOf(requirements: readonly Requirement[]): Record<string, string[]>[] {
  let alternatives: string[][] = [[]]
  for (const requirement of requirements) {
    if (requirement.kind !== 'scopes') continue
    if (requirement.mode === 'all') {
      alternatives = alternatives.map((scopes) => [...scopes, ...requirement.scopes])
    } else {
      alternatives = alternatives.flatMap((scopes) =>
        requirement.scopes.map((scope) => [...scopes, scope]),
      )
    }
  }
  return alternatives.map((scopes) => ({ [SECURITY_SCHEME]: [...new Set(scopes)] }))
}

/** Marks a guarded route's schema for the document. Called from `onRoute`. */
export function markRoute(
  route: RouteOptions,
  requirements: readonly Requirement[],
  respond: boolean,
): void {
  if (requirements.length === 0) return
  const marker: Marker = {
    security: securityOf(requirements),
    forbidden: requirements.some((requirement) => requirement.kind !== 'authenticated'),
    body: respond,
  }
  // A copy: the user's schema object may be shared by several routes.
  const schema: Record<string, unknown> = { ...route.schema, [MARKER]: marker }
  route.schema = schema
}

const ERROR_BODY = {
  type: 'object',
  properties: {
    error: { type: 'string', description: 'The RFC 6750 error code, or missing_token' },
    error_description: { type: 'string' },
  },
  required: ['error', 'error_description'],
}

function response(description: string, body: boolean): Record<string, unknown> {
  const headers = {
    'WWW-Authenticate': {
      description: 'The RFC 6750 challenge',
      schema: { type: 'string' },
    },
  }
  return body
    ? { description, headers, content: { 'application/json': { schema: ERROR_BODY } } }
    : { description, headers }
}

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null
}

/** Turns the markers of a generated document into security and responses. Idempotent. */
export function documentGuards(document: unknown): void {
  if (!isObject(document) || !isObject(document.paths)) return
  let used = false
  for (const item of Object.values(document.paths)) {
    if (!isObject(item)) continue
    for (const operation of Object.values(item)) {
      if (!isObject(operation) || !isObject(operation[MARKER])) continue
      const marker = operation[MARKER] as unknown as Marker
      Reflect.deleteProperty(operation, MARKER)
      used = true
      // What the route's own schema says wins.
      operation.security ??= marker.security
      const responses = isObject(operation.responses) ? operation.responses : {}
      operation.responses = responses
      responses['401'] ??= response('No bearer token, or one that failed verification', marker.body)
      if (marker.forbidden) {
        responses['403'] ??= response(
          'The token lacks a required scope, or a rule refused it',
          marker.body,
        )
      }
    }
  }
  if (!used) return
  const components = isObject(document.components) ? document.components : {}
  document.components = components
  const schemes = isObject(components.securitySchemes) ? components.securitySchemes : {}
  components.securitySchemes = schemes
  schemes[SECURITY_SCHEME] ??= { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }
}

type SwaggerFunction = ((this: unknown, options?: { yaml?: boolean }) => unknown) & {
  [WRAPPED]?: true
}

/**
 * Wraps `app.swagger()` of @fastify/swagger, once, on the instance that owns it, so that every
 * caller (the app, @fastify/swagger-ui) gets the completed document.
 */
export function wrapSwagger(instance: FastifyInstance): void {
  let owner: object | null = instance
  while (owner !== null && !Object.hasOwn(owner, 'swagger'))
    owner = Object.getPrototypeOf(owner) as object | null
  if (owner === null) return
  const holder = owner as { swagger: SwaggerFunction }
  const original = holder.swagger
  if (typeof original !== 'function' || original[WRAPPED] === true) return
  const wrapped: SwaggerFunction = function swagger(this: unknown, options) {
    // The object form is cached by @fastify/swagger, so the markers are turned once. The YAML
    // form is generated anew from the routes; it is served as JSON text instead, which YAML 1.2
    // parsers read as the same document.
    const document = original.call(this, { ...options, yaml: false })
    documentGuards(document)
    return options?.yaml === true ? JSON.stringify(document, null, 2) : document
  }
  wrapped[WRAPPED] = true
  holder.swagger = wrapped
}
