/**
 * The RFC 9728 protected resource metadata route: when the verifier has a `resourceMetadata`
 * document, the plugin serves it, public, at its well-known path from the host's root.
 */
import type { Verifier } from '@trustgate/core'
import type { FastifyInstance } from 'fastify'

/** Adds the metadata route to `fastify` when `verifier` has one. Throws under a route prefix. */
export function serveResourceMetadata(fastify: FastifyInstance, verifier: Verifier): void {
  // RFC 9728 s3.1: the document lives at a fixed path from the host's root.
  const metadata = verifier.resourceMetadata
  if (metadata === undefined) return
  if (fastify.prefix !== '') {
    throw new Error(
      `trustgate: resourceMetadata is served at ${metadata.path}, from the root, and this ` +
        `context adds the prefix ${fastify.prefix}: register jwtAuth in an unprefixed context, ` +
        'or serve app.trustgate.resourceMetadata.document on that path yourself',
    )
  }
  // Public even with `required: true`: a client that has no token yet needs it most.
  fastify.get(
    metadata.path,
    { config: { trustgate: { required: false } } },
    async (_request, reply) => reply.type('application/json').send(metadata.document),
  )
}
