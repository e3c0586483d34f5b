/**
 * `trustgate doctor <issuer>`: runs the checks in order, each one skipped when an earlier one
 * failed what it needs, and suggests an issuer configuration when none failed. The checks judge
 * the documents with the verifier's own rules and limits, so that what the doctor calls healthy is
 * what `verify` can use.
 */
import {
  checkUrl,
  discoveryUrl,
  inspectJwks,
  SUPPORTED_ALGORITHMS,
  type KeyReport,
} from '@trustgate/core'
import { algHint } from './alg-hint.js'
import { cacheControl } from './caching.js'
import { check, type Check, type CheckId } from './check.js'
import { fetchKeySet, fetchMetadata } from './fetch.js'
import { issuerMatch, transport } from './issuer.js'
import { keyChecks } from './keys.js'

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

/** The checks that need the JWK Set, after `jwks_fetch`. */
const KEY_SET_CHECKS: readonly CheckId[] = [
  'jwks_parse',
  'signing_keys',
  'rsa_sizes',
  'ec_curves',
  'alg_use',
  'unique_kids',
  'cache_control',
  'alg_hint',
]

/** Runs every check. Never throws for anything the network or the documents do. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { issuer, timeoutMs } = options
  const checks: Check[] = []
  const rest = (from: readonly CheckId[], why: string): void => {
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
      const fetched = await fetchMetadata(metadataUrl, timeoutMs)
      if (fetched.ok) {
        metadata = fetched.value
        checks.push(check('discovery', 'pass', `fetched ${metadataUrl.href}`))
      } else {
        checks.push(check('discovery', 'fail', `${metadataUrl.href}: ${fetched.failure}`))
        rest(['issuer_match', 'jwks_uri_https'], 'no discovery document')
      }
    }
    if (metadata !== undefined) {
      checks.push(issuerMatch(metadata, issuer))
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
  let keys: readonly KeyReport[] | undefined
  if (typeof jwksUrl === 'string') {
    rest(['jwks_fetch', ...KEY_SET_CHECKS], 'no usable jwks_uri')
  } else {
    const fetched = await fetchKeySet(jwksUrl, timeoutMs)
    if (!fetched.ok) {
      checks.push(check('jwks_fetch', 'fail', `${jwksUrl.href}: ${fetched.failure}`))
      rest(KEY_SET_CHECKS, 'no JWK Set')
    } else {
      checks.push(check('jwks_fetch', 'pass', `fetched ${jwksUrl.href}`))
      keys = inspectJwks(fetched.value.body)
      if (keys === undefined) {
        checks.push(
          check('jwks_parse', 'fail', 'the document is not a JWK Set ({ "keys": [...] })'),
        )
        rest(KEY_SET_CHECKS.slice(1), 'no JWK Set')
      } else {
        checks.push(
          check('jwks_parse', 'pass', `a JWK Set of ${String(keys.length)} key(s)`),
          ...keyChecks(keys),
          cacheControl(fetched.value.headers),
        )
        if (metadata === undefined) rest(['alg_hint'], 'no discovery document')
        else checks.push(algHint(metadata, keys))
      }
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
