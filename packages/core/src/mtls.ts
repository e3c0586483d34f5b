/**
 * Certificate-bound access tokens (RFC 8705 s3): a token whose `cnf["x5t#S256"]` is set was issued
 * to the holder of one client certificate, and is accepted only over a request made with that very
 * certificate. The check is the binding, not trust in a CA: with self-signed client authentication
 * (RFC 8705 s2.2) the certificate is trusted because its SHA-256 thumbprint is in the signed token
 * and the TLS handshake proved the client holds its private key. Whether a peer certificate is
 * accepted at all is the TLS server's decision (`requestCert`, `ca`, `rejectUnauthorized`).
 */
import { hash, X509Certificate } from 'node:crypto'
import type { ErrorFactory } from './errors.js'
import type { RequestContext } from './log.js'
import { checkOptionNames, fail } from './options.js'
import type { Principal } from './principal.js'

/** `VerifierOptions.mtls`: certificate-bound tokens (RFC 8705). */
export interface MtlsOptions {
  /**
   * Refuse every token that is not bound to a certificate (`cnf["x5t#S256"]`), with reason
   * `certificate_binding_required`. Default `false`: unbound bearer tokens pass, and bound ones are
   * checked against the request's certificate whether or not this option is set.
   */
  required?: boolean
}

const MTLS_OPTION_NAMES: readonly (keyof MtlsOptions)[] = ['required']

/** The validated {@link MtlsOptions}. */
export interface MtlsPolicy {
  readonly required: boolean
}

/**
 * A client certificate as the core takes it: an `X509Certificate` (what
 * `tlsSocket.getPeerX509Certificate()` returns) or its DER bytes (`getPeerCertificate().raw`).
 */
export type ClientCertificate = X509Certificate | Uint8Array

/** Validates `VerifierOptions.mtls` at start-up. */
export function resolveMtls(value: unknown): MtlsPolicy | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('mtls', 'must be an object: { required?: boolean }')
  }
  checkOptionNames(value, MTLS_OPTION_NAMES, 'mtls')
  const { required = false } = value as { required?: unknown }
  if (typeof required !== 'boolean') fail('mtls.required', 'must be a boolean')
  return Object.freeze({ required })
}

/**
 * Thrown by a `getClientCertificate` function (the forwarded-certificate readers of this module do)
 * when a proxy's certificate header cannot be read. The verifier turns it into `invalid_request`,
 * reason `malformed_client_certificate`, so that a bad header is a 400, never a 500.
 */
export class MalformedCertificateError extends Error {
  override name = 'MalformedCertificateError'
}

/**
 * The peer certificate of a request's TLS socket, or `undefined` for a plain TCP socket, or a TLS
 * one whose client sent no certificate. The adapters read it through this, lazily, and only when
 * no `getClientCertificate` is configured: a forwarded header is never read from the socket's
 * place, nor the socket from a header's.
 */
export function peerCertificate(socket: unknown): X509Certificate | undefined {
  if (typeof socket !== 'object' || socket === null) return undefined
  // Only a TLS socket has this method (node:tls TLSSocket, Node >= 15.9).
  const tls = socket as { getPeerX509Certificate?: () => unknown }
  if (typeof tls.getPeerX509Certificate !== 'function') return undefined
  const certificate = tls.getPeerX509Certificate()
  return certificate instanceof X509Certificate ? certificate : undefined
}

/** RFC 8705 s3.1: base64url of the SHA-256 of the certificate's DER encoding. */
export function certificateThumbprint(certificate: ClientCertificate): string {
  const der = certificate instanceof X509Certificate ? certificate.raw : certificate
  if (!(der instanceof Uint8Array)) {
    throw new TypeError('a client certificate must be an X509Certificate or its DER bytes')
  }
  // One-shot hash: a createHash object per request costs more than the hash of ~1 KB itself.
  return hash('sha256', der, 'base64url')
}

// Reads the request's certificate. Only this request's: nothing is kept between requests, since a
// keep-alive connection may renegotiate (TLS 1.2) and a proxy forwards a new header each time.
function readCertificate(
  context: RequestContext | undefined,
  errors: ErrorFactory,
): ClientCertificate | undefined {
  try {
    return context?.clientCertificate ?? undefined
  } catch (error) {
    if (error instanceof MalformedCertificateError) {
      throw errors.invalidRequest('malformed_client_certificate')
    }
    throw error
  }
}

/**
 * STEP 8, for certificates: a token bound to a certificate is refused unless this request was made
 * with that certificate, whatever the options say (no downgrade to bearer, RFC 8705 s3); with
 * `mtls.required`, an unbound token is refused too. Synchronous, and run on every request, a
 * verified-token cache hit included: the binding is to the request, not to the token.
 */
export function checkCertificateBinding(
  principal: Principal,
  policy: MtlsPolicy | undefined,
  context: RequestContext | undefined,
  errors: ErrorFactory,
): void {
  const bound = principal.confirmation?.['x5t#S256']
  if (bound === undefined) {
    if (policy?.required === true) throw errors.invalidToken('certificate_binding_required')
    return
  }
  const certificate = readCertificate(context, errors)
  if (certificate === undefined) throw errors.invalidToken('certificate_required')
  // The thumbprint is public (it is in the token), so a plain comparison leaks nothing.
  if (certificateThumbprint(certificate) !== bound) {
    throw errors.invalidToken('certificate_mismatch')
  }
}
