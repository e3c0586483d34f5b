/**
 * The public types of the Express middleware: its options, the middleware type, and the
 * augmentation of Express's request (`req.principal`). The barrel re-exports from here, so that
 * importing the package brings the augmentation in.
 */
import type { ClientCertificate, Principal, Verifier, VerifierOptions } from '@trustgate/core'
import type { Request, RequestHandler } from 'express'

declare global {
  // Express types its request through this global namespace; augmenting it is the documented way.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified caller, or `null` when the request carried no token. */
      principal: Principal | null
    }
  }
}

/** Options of `jwtAuth`: the verifier's, plus how to take the token and answer errors. */
export interface ExpressJwtAuthOptions extends VerifierOptions {
  /**
   * Takes the token from the request instead of the Authorization header. Return `null` or
   * `undefined` for "no token". Avoid query strings: they end up in access logs (RFC 6750 s5.3).
   */
  getToken?: (req: Request) => string | null | undefined
  /**
   * `false` (default): pass an `AuthError` to `next(err)`. `true`: answer it here with its status,
   * `WWW-Authenticate` and the JSON body `{ error, error_description }`, from this middleware and
   * from the guards.
   */
  respond?: boolean
  /**
   * The client certificate of a request, for certificate-bound tokens (RFC 8705), when a proxy in
   * front terminates TLS: `forwardedCertificate({ format, trustedProxies })`. Without it, the
   * certificate is the TLS peer certificate of the request's own socket, and no header is read.
   */
  getClientCertificate?: (req: Request) => ClientCertificate | null | undefined
  /**
   * The public origin of the API (`https://api.example.com`), or a function that gives it for a
   * request: DPoP proofs' `htu` is compared with it and the path of the request line. Required
   * with `dpop`. The `Host` header is never used; behind a proxy, give the origin clients call, or
   * read it in the function from a header that only your proxy sets.
   */
  origin?: string | ((req: Request) => string)
  /**
   * `true`: every request that passes through this middleware needs a principal (401
   * `missing_token` without one), guard or not, as `app.use(auth())` of express-oauth2-jwt-bearer
   * does. Mount the middleware after the routes that stay public, or use `skip`. Default `false`:
   * a route without a guard is public.
   */
  required?: boolean
  /**
   * Picks requests that are not verified at all (health checks, webhooks): they get
   * `principal = null`, even with a bad token, and `required` does not apply to them.
   */
  skip?: (req: Request) => boolean
}

/** The middleware, with the verifier behind it for tokens that do not come with a request. */
export interface JwtAuthMiddleware extends RequestHandler {
  readonly verifier: Verifier
}
