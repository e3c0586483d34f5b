/**
 * Template issuers: an `iss` spelled with a `{tenantid}` placeholder (Entra ID's multi-tenant
 * endpoints) matches any `iss` of that shape whose tenant has the safe syntax and is allowed by the
 * issuer's `tenants`. Used for configured issuers (issuers.ts) and for answers of `resolveIssuer`
 * (issuer-resolver.ts) alike, so that both match a tenant the same way.
 */
import type { IssuerPolicy } from './issuer-config.js'
import type { IssuerMatch } from './issuers.js'

/** The part of a template issuer that stands for the tenant. */
export const TENANT_PLACEHOLDER = '{tenantid}'
/** What a tenant may be: short, and nothing that could reshape a URL. */
export const TENANT_PATTERN = /^[A-Za-z0-9._-]{1,64}$/

/** One spelling of a template issuer, cut at its placeholder. */
export interface Template {
  readonly prefix: string
  readonly suffix: string
  readonly policy: IssuerPolicy
}

/** The spellings of a template issuer, cut at the placeholder. */
export function templatesOf(policy: IssuerPolicy): Template[] {
  return policy.spellings.map((spelling) => {
    const [prefix = '', suffix = ''] = spelling.split(TENANT_PLACEHOLDER)
    return { prefix, suffix, policy }
  })
}

/** The match of `iss` against one template issuer, if its tenant is allowed. */
export function matchTemplate(
  templates: readonly Template[],
  iss: string,
  until: number,
): IssuerMatch | undefined {
  for (const { prefix, suffix, policy } of templates) {
    if (iss.length <= prefix.length + suffix.length) continue
    if (!iss.startsWith(prefix) || !iss.endsWith(suffix)) continue
    const tenant = iss.slice(prefix.length, iss.length - suffix.length)
    // The tenant is checked against the pattern before the app's function ever sees it.
    if (!TENANT_PATTERN.test(tenant) || policy.tenants?.(tenant) !== true) continue
    const issuer = policy.issuer.replace(TENANT_PLACEHOLDER, tenant)
    return Object.freeze({ policy, issuer, tenant, until })
  }
  return undefined
}
