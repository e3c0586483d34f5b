/**
 * What the doctor's checks are: their ids in the order they run, their titles, their verdicts
 * (`pass`, `warn`: works but worth a look, `fail`: tokens will be refused or the issuer is
 * misconfigured, `skip`: an earlier check failed or it does not apply), and the one constructor
 * that gives each check its title.
 */

/** How a check came out. */
export type Verdict = 'pass' | 'warn' | 'fail' | 'skip'

/** One check of the doctor. */
export interface Check {
  /** Stable identifier, for scripts reading `--json`. */
  readonly id: CheckId
  readonly title: string
  readonly verdict: Verdict
  /** One sentence: what was found, and for a failure, why it matters. */
  readonly detail: string
  /** Per-key or per-value findings. */
  readonly items: readonly string[]
}

/** The checks, in the order they run. */
export type CheckId =
  | 'issuer_https'
  | 'discovery'
  | 'issuer_match'
  | 'jwks_uri_https'
  | 'jwks_fetch'
  | 'jwks_parse'
  | 'signing_keys'
  | 'rsa_sizes'
  | 'ec_curves'
  | 'alg_use'
  | 'unique_kids'
  | 'cache_control'
  | 'alg_hint'

const TITLES: Readonly<Record<CheckId, string>> = {
  issuer_https: 'issuer uses https',
  discovery: 'discovery document',
  issuer_match: 'issuer matches exactly',
  jwks_uri_https: 'jwks_uri uses https',
  jwks_fetch: 'JWKS fetch',
  jwks_parse: 'JWKS parse',
  signing_keys: 'usable signing keys',
  rsa_sizes: 'RSA key sizes',
  ec_curves: 'EC / OKP curves',
  alg_use: 'alg / use consistency',
  unique_kids: 'unique kids',
  cache_control: 'Cache-Control',
  alg_hint: 'signing algorithms hint',
}

/** One check, titled by its id. */
export function check(id: CheckId, verdict: Verdict, detail: string, items: string[] = []): Check {
  return { id, title: TITLES[id], verdict, detail, items }
}
