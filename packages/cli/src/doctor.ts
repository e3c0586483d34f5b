/**
 * `trustgate doctor <issuer>`: fetches an issuer's discovery document and JWK Set with the limits
 * the verifier uses (timeout, 1 MiB cap, no redirect, 200 only, https or loopback http) and
 * judges them with the verifier's own key rules, so that what it calls healthy is what `verify`
 * can use. Each check has a verdict: `pass`, `warn` (works, but worth a look), `fail` (tokens will
 * be refused, or the issuer is misconfigured), or `skip` (an earlier check failed, or it does not
 * apply).
 */
import {
  checkUrl,
  discoveryUrl,
  fetchDocument,
  FetchError,
  inspectJwks,
  isLoopbackHost,
  MIN_RSA_BITS,
  SUPPORTED_ALGORITHMS,
  type KeyReport,
} from '@trustgate/core'
import { show } from './text.js'

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

/** The whole verdict: `healthy` is true when no check failed. */
export interface DoctorReport {
  readonly issuer: string
  readonly discoveryUrl: string | null
  readonly jwksUri: string | null
  readonly healthy: boolean
  readonly checks: readonly Check[]
  /** An `IssuerConfig` for this issuer when it is healthy, with the algorithms its keys fit. */
  readonly suggestedConfig: Record<string, unknown> | null
}

/** What the doctor is asked to check. */
export interface DoctorOptions {
  readonly issuer: string
  readonly audience?: string | undefined
  readonly jwksUri?: string | undefined
  readonly timeoutMs: number
}

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

/** Why the verifier skips a key, in words. */
const REJECTIONS: Readonly<Record<string, string>> = {
  not_an_object: 'not a JSON object',
  unsupported_kty: 'kty is not RSA, EC or OKP',
  symmetric_key: 'a symmetric (oct) key: HMAC keys never come from a key set',
  not_for_signatures: 'not for signatures (use or key_ops says otherwise)',
  unsupported_curve: 'curve not supported (P-256, P-384, P-521, Ed25519, Ed448)',
  weak_rsa_key: `RSA modulus under ${String(MIN_RSA_BITS)} bits`,
  invalid_key: 'key parameters cannot be imported',
}

const JWS_ALGORITHMS: ReadonlySet<string> = new Set(SUPPORTED_ALGORITHMS)

function check(id: CheckId, verdict: Verdict, detail: string, items: string[] = []): Check {
  return { id, title: TITLES[id], verdict, detail, items }
}

function label(key: KeyReport): string {
  const kid = key.kid === undefined ? 'no kid' : `kid ${show(key.kid)}`
  return `key #${String(key.index)} (${kid}, kty ${key.kty ?? '?'})`
}

/**
 * Says how two issuer strings differ, for the exact-match check: the common mistakes first
 * (trailing slash, letter case, scheme), then the first differing position.
 */
export function describeDifference(expected: string, actual: string): string {
  if (actual === `${expected}/`) return 'the metadata has a trailing slash that the issuer lacks'
  if (expected === `${actual}/`) return 'the issuer has a trailing slash that the metadata lacks'
  if (actual.toLowerCase() === expected.toLowerCase()) return 'they differ in letter case only'
  const scheme = (s: string): string => s.replace(/^[a-z]+:/i, '')
  if (scheme(actual) === scheme(expected)) return 'they differ in the URL scheme only'
  let i = 0
  while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++
  return `they differ from character ${String(i)} on: ${show(expected.slice(i))} against ${show(actual.slice(i))}`
}

/** https, loopback http (development only), or refused as trustgate refuses it. */
function transport(
  id: 'issuer_https' | 'jwks_uri_https',
  what: string,
  value: unknown,
): { check: Check; url: URL | undefined } {
  const url = checkUrl(value)
  if (typeof url === 'string') {
    return { check: check(id, 'fail', `${what} ${show(value)} ${url}`), url: undefined }
  }
  if (url.protocol === 'https:') return { check: check(id, 'pass', `${what} uses https:`), url }
  return {
    check: check(
      id,
      isLoopbackHost(url.hostname) ? 'warn' : 'fail',
      `${what} uses http: on a loopback host: accepted for development, never in production`,
    ),
    url,
  }
}

function fetchFailure(error: unknown): string {
  return error instanceof FetchError ? error.message : 'request failed'
}

function keyChecks(keys: readonly KeyReport[]): Check[] {
  const usable = keys.filter((key) => key.algorithms.length > 0)
  const skipped = keys.filter((key) => key.algorithms.length === 0)
  const checks: Check[] = []

  const skipItems = skipped.map(
    (key) =>
      `${label(key)} skipped: ${
        key.rejection === undefined
          ? `its alg ${show(key.alg)} fits no algorithm for its key type`
          : (REJECTIONS[key.rejection] ?? key.rejection)
      }`,
  )
  checks.push(
    usable.length === 0
      ? check(
          'signing_keys',
          'fail',
          'no key the verifier can use: every token is refused, and the fetch counts as failed',
          skipItems,
        )
      : check(
          'signing_keys',
          'pass',
          `${String(usable.length)} usable signing key${usable.length === 1 ? '' : 's'}` +
            (skipped.length > 0 ? `, ${String(skipped.length)} skipped` : ''),
          [...usable.map((key) => `${label(key)}: ${key.algorithms.join(', ')}`), ...skipItems],
        ),
  )

  const rsa = keys.filter((key) => key.kty === 'RSA' && key.rejection !== 'not_for_signatures')
  const weak = rsa.filter((key) => key.bits === undefined || key.bits < MIN_RSA_BITS)
  checks.push(
    rsa.length === 0
      ? check('rsa_sizes', 'skip', 'no RSA signing key')
      : check(
          'rsa_sizes',
          weak.length > 0 ? 'fail' : 'pass',
          weak.length > 0
            ? `${String(weak.length)} RSA key(s) under ${String(MIN_RSA_BITS)} bits: never used (RFC 8725 s3.5)`
            : `every RSA key has at least ${String(MIN_RSA_BITS)} bits`,
          rsa.map(
            (key) =>
              `${label(key)}: ${key.bits === undefined ? 'unreadable modulus' : `${String(key.bits)} bits`}`,
          ),
        ),
  )

  const curved = keys.filter(
    (key) => (key.kty === 'EC' || key.kty === 'OKP') && key.rejection !== 'not_for_signatures',
  )
  const badCurves = curved.filter((key) => key.rejection === 'unsupported_curve')
  checks.push(
    curved.length === 0
      ? check('ec_curves', 'skip', 'no EC or OKP signing key')
      : check(
          'ec_curves',
          badCurves.length > 0 ? 'fail' : 'pass',
          badCurves.length > 0
            ? `${String(badCurves.length)} key(s) on a curve the verifier does not support`
            : 'every curve is supported',
          curved.map((key) => `${label(key)}: crv ${show(key.crv)}`),
        ),
  )

  const inconsistent: string[] = []
  for (const key of keys) {
    const { alg, use } = key
    if (use !== undefined && use !== 'sig' && use !== 'enc') {
      inconsistent.push(
        `${label(key)}: use ${show(use)} is neither "sig" nor "enc" (RFC 7517 s4.2)`,
      )
    } else if (use === 'enc' && alg !== undefined && JWS_ALGORITHMS.has(alg)) {
      inconsistent.push(`${label(key)}: use "enc" with the signature algorithm ${show(alg)}`)
    } else if (alg !== undefined && (alg === 'none' || alg.startsWith('HS'))) {
      inconsistent.push(`${label(key)}: alg ${show(alg)} never verifies a token from a key set`)
    } else if (use !== 'enc' && key.rejection === undefined && key.algorithms.length === 0) {
      inconsistent.push(
        `${label(key)}: alg ${show(alg)} does not fit kty ${show(key.kty)}` +
          (use === undefined ? ' (and no use: "enc" says it is not for signatures)' : ''),
      )
    }
  }
  checks.push(
    inconsistent.length > 0
      ? check('alg_use', 'fail', 'keys whose alg and use contradict each other', inconsistent)
      : check('alg_use', 'pass', 'every alg fits its key type and use'),
  )

  const byKid = new Map<string, KeyReport[]>()
  for (const key of usable) {
    if (key.kid === undefined) continue
    byKid.set(key.kid, [...(byKid.get(key.kid) ?? []), key])
  }
  const duplicates = [...byKid].filter(([, list]) => list.length > 1)
  const noKid = usable.filter((key) => key.kid === undefined)
  if (duplicates.length > 0) {
    checks.push(
      check(
        'unique_kids',
        'fail',
        'several signing keys share a kid: a token cannot say which one signed it',
        duplicates.map(
          ([kid, list]) =>
            `kid ${show(kid)} on keys ${list.map((key) => `#${String(key.index)}`).join(', ')}`,
        ),
      ),
    )
  } else if (noKid.length > 0 && usable.length > 1) {
    checks.push(
      check(
        'unique_kids',
        'warn',
        'signing keys without a kid in a set of several: a token without a kid is refused when more than one key fits',
        noKid.map(label),
      ),
    )
  } else {
    checks.push(check('unique_kids', 'pass', 'every signing key has its own kid'))
  }
  return checks
}

function cacheControl(headers: Headers): Check {
  const value = headers.get('cache-control')
  if (value === null) {
    return check(
      'cache_control',
      'warn',
      'no Cache-Control header: the issuer says nothing about how long keys may be cached (trustgate keeps them for jwks.cacheMaxAge)',
    )
  }
  const directives = value.toLowerCase()
  const maxAge = /(?:^|[,\s])max-age\s*=\s*"?(\d+)/.exec(directives)?.[1]
  if (/(?:^|[,\s])(no-store|no-cache)\b/.test(directives) || maxAge === '0') {
    return check(
      'cache_control',
      'warn',
      `Cache-Control ${show(value)} asks for no caching: trustgate caches keys anyway (for jwks.cacheMaxAge), as every JWT verifier must`,
    )
  }
  if (maxAge === undefined) {
    return check('cache_control', 'warn', `Cache-Control ${show(value)} has no max-age`)
  }
  return check(
    'cache_control',
    'pass',
    `Cache-Control ${show(value)}: max-age ${maxAge} s (trustgate refreshes after jwks.cacheMaxAge, 600 s by default)`,
  )
}

function algHint(metadata: Record<string, unknown>, keys: readonly KeyReport[]): Check {
  const listed = metadata.id_token_signing_alg_values_supported
  if (!Array.isArray(listed) || listed.some((alg) => typeof alg !== 'string')) {
    return check(
      'alg_hint',
      'warn',
      'the metadata has no id_token_signing_alg_values_supported list to compare the keys with',
    )
  }
  const algs = listed as string[]
  const keyAlgs = new Set(keys.flatMap((key) => key.algorithms))
  const usable = algs.filter((alg) => keyAlgs.has(alg as never))
  const items: string[] = []
  for (const alg of algs) {
    if (alg === 'none' || alg.startsWith('HS')) {
      items.push(`${show(alg)}: never accepted from this issuer's key set`)
    } else if (!JWS_ALGORITHMS.has(alg)) {
      items.push(`${show(alg)}: not an algorithm trustgate verifies`)
    } else if (!keyAlgs.has(alg as never)) {
      items.push(`${show(alg)}: no key of the set can verify it`)
    }
  }
  if (usable.length === 0) {
    return check(
      'alg_hint',
      'warn',
      `none of the advertised algorithms ${show(algs)} fits a key of the set`,
      items,
    )
  }
  return check(
    'alg_hint',
    items.length > 0 ? 'warn' : 'pass',
    `ID tokens are signed with ${usable.join(', ')}; access tokens usually are too: consider algorithms: ${show(usable)}`,
    items,
  )
}

/** Runs every check. Never throws for anything the network or the documents do. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { issuer, timeoutMs } = options
  const checks: Check[] = []
  const rest = (from: CheckId[], why: string): void => {
    for (const id of from) checks.push(check(id, 'skip', why))
  }

  const issuerTransport = transport('issuer_https', 'the issuer', issuer)
  checks.push(issuerTransport.check)

  let metadata: Record<string, unknown> | undefined
  let jwksValue: unknown
  let metadataUrl: URL | undefined
  if (options.jwksUri === undefined) {
    if (issuerTransport.url === undefined) {
      rest(['discovery', 'issuer_match', 'jwks_uri_https'], 'the issuer URL is refused')
    } else {
      metadataUrl = discoveryUrl(issuer)
      try {
        const { body } = await fetchDocument(metadataUrl, timeoutMs)
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          throw new FetchError('discovery document is not a JSON object')
        }
        metadata = body as Record<string, unknown>
        checks.push(check('discovery', 'pass', `fetched ${metadataUrl.href}`))
      } catch (error) {
        checks.push(check('discovery', 'fail', `${metadataUrl.href}: ${fetchFailure(error)}`))
        rest(['issuer_match', 'jwks_uri_https'], 'no discovery document')
      }
    }
    if (metadata !== undefined) {
      checks.push(
        metadata.issuer === issuer
          ? check('issuer_match', 'pass', `the metadata issuer is ${show(issuer)}, byte for byte`)
          : check(
              'issuer_match',
              'fail',
              typeof metadata.issuer === 'string'
                ? `the metadata names ${show(metadata.issuer)}, not ${show(issuer)}: ${describeDifference(issuer, metadata.issuer)}; trustgate refuses the discovery (OpenID Connect Discovery s4.3) and iss must equal the configured issuer exactly`
                : 'the metadata has no issuer string',
            ),
      )
      jwksValue = metadata.jwks_uri
      if (jwksValue === undefined) {
        checks.push(check('jwks_uri_https', 'fail', 'the metadata has no jwks_uri'))
      } else {
        checks.push(transport('jwks_uri_https', 'jwks_uri', jwksValue).check)
      }
    }
  } else {
    rest(['discovery', 'issuer_match'], '--jwks-uri was given: no discovery')
    jwksValue = options.jwksUri
    checks.push(transport('jwks_uri_https', 'jwks_uri', jwksValue).check)
  }

  const jwksUrl = checkUrl(jwksValue)
  const later: CheckId[] = [
    'jwks_parse',
    'signing_keys',
    'rsa_sizes',
    'ec_curves',
    'alg_use',
    'unique_kids',
    'cache_control',
    'alg_hint',
  ]
  let keys: readonly KeyReport[] | undefined
  if (typeof jwksUrl === 'string') {
    rest(['jwks_fetch', ...later], 'no usable jwks_uri')
  } else {
    try {
      const { body, headers } = await fetchDocument(jwksUrl, timeoutMs)
      checks.push(check('jwks_fetch', 'pass', `fetched ${jwksUrl.href}`))
      keys = inspectJwks(body)
      if (keys === undefined) {
        checks.push(
          check('jwks_parse', 'fail', 'the document is not a JWK Set ({ "keys": [...] })'),
        )
        rest(later.slice(1), 'no JWK Set')
      } else {
        checks.push(
          check('jwks_parse', 'pass', `a JWK Set of ${String(keys.length)} key(s)`),
          ...keyChecks(keys),
          cacheControl(headers),
        )
        if (metadata === undefined) rest(['alg_hint'], 'no discovery document')
        else checks.push(algHint(metadata, keys))
      }
    } catch (error) {
      checks.push(check('jwks_fetch', 'fail', `${jwksUrl.href}: ${fetchFailure(error)}`))
      rest(later, 'no JWK Set')
    }
  }

  const healthy = checks.every((c) => c.verdict !== 'fail')
  const algorithms = SUPPORTED_ALGORITHMS.filter((alg) =>
    keys?.some((key) => key.algorithms.includes(alg)),
  )
  return {
    issuer,
    discoveryUrl: metadataUrl?.href ?? null,
    jwksUri: typeof jwksUrl === 'string' ? null : jwksUrl.href,
    healthy,
    checks,
    suggestedConfig: healthy
      ? {
          issuer,
          audience: options.audience ?? '<the audience of your API>',
          ...(options.jwksUri === undefined ? { discovery: true } : { jwksUri: options.jwksUri }),
          algorithms,
        }
      : null,
  }
}

/** The human form of a report: one line per check, its findings indented below it. */
export function formatDoctor(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.title.length))
  const lines = [`trustgate doctor ${report.issuer}`, '']
  for (const c of report.checks) {
    lines.push(`${c.verdict.toUpperCase().padEnd(4)}  ${c.title.padEnd(width)}  ${c.detail}`)
    for (const item of c.items) lines.push(`${' '.repeat(width + 8)}- ${item}`)
  }
  const count = (verdict: Verdict): number =>
    report.checks.filter((c) => c.verdict === verdict).length
  lines.push(
    '',
    report.healthy
      ? `verdict: healthy (${String(count('pass'))} passed, ${String(count('warn'))} warning(s))`
      : `verdict: NOT healthy (${String(count('fail'))} failed, ${String(count('warn'))} warning(s))`,
  )
  if (report.suggestedConfig !== null) {
    lines.push('', `issuer config: ${JSON.stringify(report.suggestedConfig)}`)
  }
  return lines.join('\n')
}
