/**
 * The Express middleware: `jwtAuth(options)` verifies the bearer token of every request and sets
 * `req.principal`; `requireAuth()` and `requireScopes(...)` guard routes. Failures go to
 * `next(err)` as an `AuthError` carrying `status` and `headers`, which Express's own error handler
 * already turns into the right response. All token logic lives in `@trustgate/core`. This file is
 * the public barrel.
 */
export { jwtAuth } from './middleware.js'
export { requireAnyScope, requireAuth, requirePrincipal, requireScopes } from './guards.js'
export type { ExpressJwtAuthOptions, JwtAuthMiddleware } from './types.js'

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
