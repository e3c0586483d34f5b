import { beforeAll, describe, expect, it, vi } from 'vitest'
import { createVerifier, type Verifier } from '../src/verifier.js'
import type { VerifierOptions } from '../src/verifier-options.js'
import type { RequestContext } from '../src/log.js'
import { certificateThumbprint, MalformedCertificateError, peerCertificate } from '../src/mtls.js'
import { createKey, jwks, sign, type TestKey } from '../../../test/helpers/keys.js'
import { createCertificate, type TestCertificate } from '../../../test/helpers/certs.js'
import { captureLogger, type CapturedLogger } from '../../../test/helpers/log.js'
import {
  expectRejection,
  invalidToken,
  rejectionOf,
  type AuthErrorShape,
} from '../../../test/helpers/auth-error.js'

const ISS = 'https://mtls.test'
let key: TestKey
let alice: TestCertificate
let mallory: TestCertificate
let log: CapturedLogger

beforeAll(async () => {
  key = await createKey('ES256', { kid: 'k1' })
  alice = createCertificate('alice')
  mallory = createCertificate('mallory')
  log = captureLogger()
})

function verifierWith(overrides: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({
    issuers: [{ issuer: ISS, audience: 'api', keys: jwks(key) }],
    logger: log.logger,
    ...overrides,
  })
}

function boundTo(certificate: TestCertificate, extra: Record<string, unknown> = {}) {
  return sign(key, {
    iss: ISS,
    aud: 'api',
    sub: 'client',
    cnf: { 'x5t#S256': certificate.thumbprint },
    ...extra,
  })
}

const over = (certificate: TestCertificate | undefined): RequestContext => ({
  clientCertificate: certificate?.x509,
})

async function refused(
  promise: Promise<unknown>,
  reason: string,
  token: string,
): Promise<AuthErrorShape> {
  return expectRejection(promise, invalidToken(reason), token, log.raw)
}

describe('mtls options', () => {
  it('are validated at start-up, naming the field', () => {
    expect(() => verifierWith({ mtls: 'yes' as never })).toThrow(
      /^trustgate: mtls must be an object/,
    )
    expect(() => verifierWith({ mtls: { required: 1 as never } })).toThrow(
      'trustgate: mtls.required must be a boolean',
    )
    expect(() => verifierWith({ mtls: { require: true } as never })).toThrow(
      'trustgate: mtls.require is not an option (did you mean required?)',
    )
    expect(() => verifierWith({ mtls: {} })).not.toThrow()
    expect(() => verifierWith({ mtls: { required: true } })).not.toThrow()
  })
})

describe('certificate-bound tokens (RFC 8705 s3)', () => {
  it('pass over a request made with the certificate they are bound to, as X509 or DER', async () => {
    const verifier = verifierWith({ tokenCache: false })
    const token = await boundTo(alice)
    const principal = await verifier.verify(token, over(alice))
    expect(principal.confirmation).toEqual({ 'x5t#S256': alice.thumbprint })
    expect(Object.isFrozen(principal.confirmation)).toBe(true)
    await expect(verifier.verify(token, { clientCertificate: alice.der })).resolves.toMatchObject({
      subject: 'client',
    })
  })

  it('are refused over a request made with another certificate, with or without mtls options', async () => {
    const token = await boundTo(alice)
    for (const options of [{}, { mtls: {} }, { mtls: { required: true } }]) {
      const verifier = verifierWith({ tokenCache: false, ...options })
      await refused(verifier.verify(token, over(mallory)), 'certificate_mismatch', token)
      await expect(verifier.verify(token, over(alice))).resolves.toBeDefined()
    }
  })

  it('are refused without a certificate: no downgrade to a bearer token', async () => {
    const verifier = verifierWith({ tokenCache: false })
    const token = await boundTo(alice)
    await refused(verifier.verify(token), 'certificate_required', token)
    await refused(verifier.verify(token, {}), 'certificate_required', token)
    await refused(
      verifier.verify(token, { clientCertificate: null }),
      'certificate_required',
      token,
    )
    await refused(verifier.authenticate(`Bearer ${token}`), 'certificate_required', token)
    await expect(verifier.authenticate(`Bearer ${token}`, over(alice))).resolves.toBeDefined()
  })

  it('with mtls.required, an unbound token is refused and a bound one passes', async () => {
    const verifier = verifierWith({ tokenCache: false, mtls: { required: true } })
    const bearer = await sign(key, { iss: ISS, aud: 'api', sub: 'client' })
    await refused(verifier.verify(bearer, over(alice)), 'certificate_binding_required', bearer)
    // A DPoP key binding is not a certificate binding (whichever STEP 8 check speaks first).
    const dpopBound = await sign(key, { iss: ISS, aud: 'api', sub: 'client', cnf: { jkt: 'abc' } })
    await expect(verifier.verify(dpopBound, over(alice))).rejects.toMatchObject({
      code: 'invalid_token',
    })
    await expect(verifier.verify(await boundTo(alice), over(alice))).resolves.toBeDefined()
    // Without the option, the same bearer token is fine.
    await expect(verifierWith().verify(bearer, over(alice))).resolves.toBeDefined()
  })

  it('refuses a cnf of the wrong type rather than read it as no binding', async () => {
    const verifier = verifierWith({ tokenCache: false })
    for (const cnf of ['x', ['x5t#S256'], { 'x5t#S256': 5 }, { 'x5t#S256': '' }, { jkt: {} }]) {
      const token = await sign(key, { iss: ISS, aud: 'api', sub: 'client', cnf })
      await refused(verifier.verify(token, over(alice)), 'invalid_claim', token)
    }
    const honest = await boundTo(alice, { cnf: { 'x5t#S256': alice.thumbprint } })
    await expect(verifier.verify(honest, over(alice))).resolves.toBeDefined()
  })

  it('checks the certificate of each request on a verified-token cache hit', async () => {
    const verifier = verifierWith()
    const token = await boundTo(alice)
    const header = `Bearer ${token}`
    const principal = await verifier.verify(token, over(alice))
    expect(verifier.authenticateCached(header, over(alice))).toBe(principal)
    expect(() => verifier.authenticateCached(header, over(mallory))).toThrow(
      expect.objectContaining({ reason: 'certificate_mismatch', status: 401 }),
    )
    expect(() => verifier.authenticateCached(header)).toThrow(
      expect.objectContaining({ reason: 'certificate_required' }),
    )
    await refused(verifier.verify(token, over(mallory)), 'certificate_mismatch', token)
    await refused(verifier.authenticate(header, over(undefined)), 'certificate_required', token)
    // Refusing a request does not evict the token: the owner's next request is still a hit.
    expect(verifier.authenticateCached(header, over(alice))).toBe(principal)
  })

  it('reads the certificate only for a bound token', async () => {
    const verifier = verifierWith({ tokenCache: false })
    const read = vi.fn(() => alice.x509)
    const context: RequestContext = {
      get clientCertificate() {
        return read()
      },
    }
    await verifier.verify(await sign(key, { iss: ISS, aud: 'api', sub: 'client' }), context)
    expect(read).not.toHaveBeenCalled()
    await verifier.verify(await boundTo(alice), context)
    expect(read).toHaveBeenCalledTimes(1)
  })

  it('answers 400 invalid_request for an unreadable forwarded certificate, and 500s other errors', async () => {
    const verifier = verifierWith({ tokenCache: false })
    const token = await boundTo(alice)
    const malformed: RequestContext = {
      get clientCertificate(): never {
        throw new MalformedCertificateError('bad header')
      },
    }
    const error = await expectRejection(
      verifier.verify(token, malformed),
      { code: 'invalid_request', reason: 'malformed_client_certificate', status: 400 },
      token,
      log.raw,
    )
    expect(error.message).toBe('The forwarded client certificate cannot be read')
    const bug = new Error('a bug in getClientCertificate')
    const broken: RequestContext = {
      get clientCertificate(): never {
        throw bug
      },
    }
    expect(await rejectionOf(verifier.verify(token, broken))).toBe(bug)
  })
})

describe('certificateThumbprint and peerCertificate', () => {
  it('hash the DER as RFC 8705 s3.1 says, the same for X509Certificate and bytes', () => {
    expect(certificateThumbprint(alice.x509)).toBe(alice.thumbprint)
    expect(certificateThumbprint(new Uint8Array(alice.der))).toBe(alice.thumbprint)
    // X509Certificate.fingerprint256 is the same hash in hex, computed by OpenSSL.
    expect(Buffer.from(alice.thumbprint, 'base64url').toString('hex')).toBe(
      alice.x509.fingerprint256.replaceAll(':', '').toLowerCase(),
    )
    expect(() => certificateThumbprint('pem' as never)).toThrow(TypeError)
  })

  it('finds no certificate on a plain socket, or a TLS socket without one', () => {
    expect(peerCertificate(undefined)).toBeUndefined()
    expect(peerCertificate({ remoteAddress: '127.0.0.1' })).toBeUndefined()
    expect(peerCertificate({ getPeerX509Certificate: () => undefined })).toBeUndefined()
    expect(peerCertificate({ getPeerX509Certificate: () => alice.x509 })).toBe(alice.x509)
  })
})
