import { expectTypeOf, test } from 'vitest'
import type {
  ClientCertificate,
  Confirmation,
  ForwardedCertificateReader,
  Principal,
  RequestContext,
} from '../src/index.js'

test('principal.confirmation is the verified cnf, or undefined', () => {
  expectTypeOf<Principal['confirmation']>().toEqualTypeOf<Confirmation | undefined>()
  expectTypeOf<Confirmation['x5t#S256']>().toEqualTypeOf<string | undefined>()
  expectTypeOf<{ 'x5t#S256': string }>().toExtend<Confirmation>()
  expectTypeOf<{ jkt: string }>().toExtend<Confirmation>()
  expectTypeOf<{ kid: string }>().not.toExtend<Confirmation>()
})

test('a forwarded-certificate reader yields what RequestContext.clientCertificate holds', () => {
  expectTypeOf<ReturnType<ForwardedCertificateReader>>().toExtend<
    RequestContext['clientCertificate']
  >()
  expectTypeOf<Buffer>().toExtend<ClientCertificate>()
})
