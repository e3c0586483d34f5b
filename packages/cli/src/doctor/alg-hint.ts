/**
 * The discovery document's `id_token_signing_alg_values_supported` against the key set: which
 * advertised algorithms some key can verify, which never come from a key set, and the
 * `algorithms` allowlist to configure. Only a hint: access tokens need not use the ID tokens'
 * algorithms, so it never fails.
 */
import type { KeyReport } from '@trustgate/core'
import { show } from '../text.js'
import { check, type Check } from './check.js'
import { isJwsAlgorithm, neverFromKeySet } from './keys.js'

/** The `alg_hint` check. */
export function algHint(metadata: Record<string, unknown>, keys: readonly KeyReport[]): Check {
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
    if (neverFromKeySet(alg)) {
      items.push(`${show(alg)}: never accepted from this issuer's key set`)
    } else if (!isJwsAlgorithm(alg)) {
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
