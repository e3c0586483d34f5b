/**
 * The checks on a JWK Set's keys. Whether a key is usable, and with which algorithms, comes from
 * the core's `inspectJwks` (the verifier's own `importJwk` and `keyFits`), so the doctor never
 * disagrees with `verify`; these checks only put its report into words, and add what the
 * verifier does not judge key by key: RSA sizes and curves per key, `alg`/`use` contradictions,
 * and `kid`s shared by several keys.
 */
import { MIN_RSA_BITS, SUPPORTED_ALGORITHMS, type KeyReport } from '@trustgate/core'
import { show } from '../text.js'
import { check, type Check, type CheckId } from './check.js'

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

/** True for an algorithm name trustgate verifies (HMAC included). */
export function isJwsAlgorithm(alg: string): boolean {
  return JWS_ALGORITHMS.has(alg)
}

/** `none` and HMAC: never verify a token with a key from a key set (RFC 8725 s3.1, s3.2). */
export function neverFromKeySet(alg: string): boolean {
  return alg === 'none' || alg.startsWith('HS')
}

function label(key: KeyReport): string {
  const kid = key.kid === undefined ? 'no kid' : `kid ${show(key.kid)}`
  return `key #${String(key.index)} (${kid}, kty ${key.kty ?? '?'})`
}

/** The keys of one family meant for signatures (a `use: "enc"` key is not judged by size or curve). */
function signingKeysOf(keys: readonly KeyReport[], ktys: readonly string[]): KeyReport[] {
  return keys.filter(
    (key) =>
      key.kty !== undefined && ktys.includes(key.kty) && key.rejection !== 'not_for_signatures',
  )
}

/**
 * One check over the keys of a family: `skip` when there are none, `fail` when some are `bad`,
 * `pass` otherwise, with one finding per key.
 */
function familyCheck(
  id: CheckId,
  keys: readonly KeyReport[],
  bad: readonly KeyReport[],
  details: { readonly none: string; readonly failed: string; readonly passed: string },
  finding: (key: KeyReport) => string,
): Check {
  if (keys.length === 0) return check(id, 'skip', details.none)
  return check(
    id,
    bad.length > 0 ? 'fail' : 'pass',
    bad.length > 0 ? details.failed : details.passed,
    keys.map((key) => `${label(key)}: ${finding(key)}`),
  )
}

function signingKeys(keys: readonly KeyReport[], usable: readonly KeyReport[]): Check {
  const skipped = keys.filter((key) => key.algorithms.length === 0)
  const skipItems = skipped.map(
    (key) =>
      `${label(key)} skipped: ${
        key.rejection === undefined
          ? `its alg ${show(key.alg)} fits no algorithm for its key type`
          : (REJECTIONS[key.rejection] ?? key.rejection)
      }`,
  )
  return usable.length === 0
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
      )
}

function rsaSizes(keys: readonly KeyReport[]): Check {
  const rsa = signingKeysOf(keys, ['RSA'])
  const weak = rsa.filter((key) => key.bits === undefined || key.bits < MIN_RSA_BITS)
  return familyCheck(
    'rsa_sizes',
    rsa,
    weak,
    {
      none: 'no RSA signing key',
      failed: `${String(weak.length)} RSA key(s) under ${String(MIN_RSA_BITS)} bits: never used (RFC 8725 s3.5)`,
      passed: `every RSA key has at least ${String(MIN_RSA_BITS)} bits`,
    },
    (key) => (key.bits === undefined ? 'unreadable modulus' : `${String(key.bits)} bits`),
  )
}

function curves(keys: readonly KeyReport[]): Check {
  const curved = signingKeysOf(keys, ['EC', 'OKP'])
  const badCurves = curved.filter((key) => key.rejection === 'unsupported_curve')
  return familyCheck(
    'ec_curves',
    curved,
    badCurves,
    {
      none: 'no EC or OKP signing key',
      failed: `${String(badCurves.length)} key(s) on a curve the verifier does not support`,
      passed: 'every curve is supported',
    },
    (key) => `crv ${show(key.crv)}`,
  )
}

function algUse(keys: readonly KeyReport[]): Check {
  const inconsistent: string[] = []
  for (const key of keys) {
    const { alg, use } = key
    if (use !== undefined && use !== 'sig' && use !== 'enc') {
      inconsistent.push(
        `${label(key)}: use ${show(use)} is neither "sig" nor "enc" (RFC 7517 s4.2)`,
      )
    } else if (use === 'enc' && alg !== undefined && isJwsAlgorithm(alg)) {
      inconsistent.push(`${label(key)}: use "enc" with the signature algorithm ${show(alg)}`)
    } else if (alg !== undefined && neverFromKeySet(alg)) {
      inconsistent.push(`${label(key)}: alg ${show(alg)} never verifies a token from a key set`)
    } else if (use !== 'enc' && key.rejection === undefined && key.algorithms.length === 0) {
      inconsistent.push(
        `${label(key)}: alg ${show(alg)} does not fit kty ${show(key.kty)}` +
          (use === undefined ? ' (and no use: "enc" says it is not for signatures)' : ''),
      )
    }
  }
  return inconsistent.length > 0
    ? check('alg_use', 'fail', 'keys whose alg and use contradict each other', inconsistent)
    : check('alg_use', 'pass', 'every alg fits its key type and use')
}

function uniqueKids(usable: readonly KeyReport[]): Check {
  const byKid = new Map<string, KeyReport[]>()
  for (const key of usable) {
    if (key.kid === undefined) continue
    byKid.set(key.kid, [...(byKid.get(key.kid) ?? []), key])
  }
  const duplicates = [...byKid].filter(([, list]) => list.length > 1)
  const noKid = usable.filter((key) => key.kid === undefined)
  if (duplicates.length > 0) {
    return check(
      'unique_kids',
      'fail',
      'several signing keys share a kid: a token cannot say which one signed it',
      duplicates.map(
        ([kid, list]) =>
          `kid ${show(kid)} on keys ${list.map((key) => `#${String(key.index)}`).join(', ')}`,
      ),
    )
  }
  if (noKid.length > 0 && usable.length > 1) {
    return check(
      'unique_kids',
      'warn',
      'signing keys without a kid in a set of several: a token without a kid is refused when more than one key fits',
      noKid.map(label),
    )
  }
  return check('unique_kids', 'pass', 'every signing key has its own kid')
}

/** The key checks, in order: usable keys, RSA sizes, curves, alg/use, unique kids. */
export function keyChecks(keys: readonly KeyReport[]): Check[] {
  const usable = keys.filter((key) => key.algorithms.length > 0)
  return [signingKeys(keys, usable), rsaSizes(keys), curves(keys), algUse(keys), uniqueKids(usable)]
}
