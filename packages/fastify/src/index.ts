/**
 * The Fastify plugin: verifies the bearer token of every request in an `onRequest` hook (before
 * the body is parsed), sets `request.principal`, and offers route-level guards, both as imports
 * (`authenticate`, `requireScopes(...)`) and as decorators (`app.authenticate`). All token logic
 * lives in `@trustgate/core`; this package only translates. This file is the public barrel.
 */
import type { FastifyInstance } from 'fastify'
import { jwtAuth } from './plugin.js'

export { jwtAuth }
export default jwtAuth
export { authenticate, requireAnyScope, requirePrincipal, requireScopes } from './guards.js'
export type { AuthGuard, FastifyJwtAuthOptions, TrustgateRouteConfig } from './types.js'

// Runtime values a user needs without installing @trustgate/core (pnpm's strict layout does not
// let an app import a package it did not install): the error class and predicate, the presets.
export {
  AuthError,
  auth0,
  clerk,
  cognito,
  entraId,
  firebase,
  forwardedCertificate,
  google,
  isAuthError,
  keycloak,
  okta,
} from '@trustgate/core'
export type {
  AuthErrorCode,
  AuthErrorReason,
  IssuerConfig,
  Principal,
  VerifierOptions,
} from '@trustgate/core'
export type { FastifyInstance }
