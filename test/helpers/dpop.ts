/**
 * DPoP proofs minted with jose, for the core and attack tests (the end-to-end tests use
 * oauth4webapi's instead). Each option changes one thing of an honest proof, so that every attack
 * test can show its honest twin.
 */
import { createHash, randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, SignJWT, type JWK } from 'jose'
import { nowSeconds, type TestKey } from './keys.js'

export interface ProofOptions {
  htm?: string
  htu?: string
  /** The access token whose hash goes into `ath`; `undefined` leaves `ath` out. */
  token?: string | undefined
  iat?: number
  jti?: string
  nonce?: string
  /** Header parameters to add or override (`typ`, `alg`, `jwk`...). */
  header?: Record<string, unknown>
  /** Claims to add or override. */
  claims?: Record<string, unknown>
}

/** The public JWK of `key` as a proof carries it: no `kid`, `use` or `alg`. */
export function proofJwk(key: TestKey): JWK {
  const { kid: _kid, use: _use, alg: _alg, ...jwk } = key.jwk
  return jwk
}

/** RFC 7638 thumbprint of `key`, as `cnf.jkt` carries it. */
export function thumbprint(key: TestKey): Promise<string> {
  return calculateJwkThumbprint(proofJwk(key), 'sha256')
}

/** base64url(SHA-256(token)): the `ath` of a proof for `token`. */
export function ath(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

/** A DPoP proof signed with `key`, for GET https://api.example.test/orders unless told. */
export function mintProof(key: TestKey, options: ProofOptions = {}): Promise<string> {
  const payload: Record<string, unknown> = {
    jti: options.jti ?? randomUUID(),
    htm: options.htm ?? 'GET',
    htu: options.htu ?? 'https://api.example.test/orders',
    iat: options.iat ?? nowSeconds(),
    ...(options.token === undefined ? {} : { ath: ath(options.token) }),
    ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
    ...options.claims,
  }
  const header = { typ: 'dpop+jwt', alg: key.alg, jwk: proofJwk(key), ...options.header }
  return new SignJWT(payload).setProtectedHeader(header).sign(key.privateKey)
}
