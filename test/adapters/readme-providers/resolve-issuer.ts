import type { IssuerConfig, VerifierOptions } from '@trustgate/fastify'

// Customers who bring their own OpenID provider, by issuer, e.g. from your database.
export const tenants = new Map<string, { audience: string }>()

export const options: Pick<VerifierOptions, 'issuers' | 'resolveIssuer'> = {
  issuers: [{ issuer: 'https://auth.example.com', audience: 'api', discovery: true }],
  // Asked only for an iss that no issuer above matches; answers are cached and rate-limited.
  resolveIssuer: (iss): IssuerConfig | null => {
    const tenant = tenants.get(iss)
    return tenant === undefined ? null : { issuer: iss, audience: tenant.audience, discovery: true }
  },
}
