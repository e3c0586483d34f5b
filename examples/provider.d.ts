// Types of provider.js, for the TypeScript end-to-end tests (the examples themselves are plain JS).
import type { Server } from 'node:http'
import type { JWK } from 'jose'

export declare const API_AUDIENCE: string
export declare const API_SCOPES: readonly string[]

/** A machine client of the provider. */
export interface ExampleClient {
  clientId: string
  clientSecret: string
  /** What the provider lets this client have, space-separated. */
  scope: string
  /** How its access tokens are signed. */
  alg: 'RS256' | 'ES256'
  /** Its access tokens are DPoP-bound (client metadata `dpop_bound_access_tokens`). */
  dpopBound?: boolean
}

export declare const CLIENTS: readonly ExampleClient[]
/** A client whose access tokens are DPoP-bound (RFC 9449). */
export declare const DPOP_CLIENT: ExampleClient

/** A private JWK Set. */
export interface SigningKeys {
  keys: JWK[]
}

export declare function createSigningKeys(label?: string): Promise<SigningKeys>

export interface ProviderOptions {
  port?: number
  jwks?: SigningKeys
  accessTokenTTL?: number
  clients?: readonly ExampleClient[]
  audience?: string
}

export interface StartedProvider {
  /** `http://127.0.0.1:<port>` */
  readonly issuer: string
  readonly port: number
  readonly jwks: SigningKeys
  /** The oidc-provider instance (untyped: oidc-provider ships no types). */
  readonly provider: unknown
  readonly server: Server
  /** Requests received on `path` so far, or on every path. */
  hits(path?: string): number
  /** An access token from the token endpoint (client-credentials grant). */
  token(clientId: string, request?: { scope?: string; resource?: string }): Promise<string>
  /** Closes the server and every open connection. */
  stop(): Promise<void>
}

export declare function startProvider(options?: ProviderOptions): Promise<StartedProvider>
