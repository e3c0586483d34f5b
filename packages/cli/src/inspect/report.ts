/**
 * `trustgate inspect`: decodes a token and shows its header and claims marked as untrusted, with
 * times in human form; with a verifier configuration it also gives the verdict `verify` would
 * give. The signature is never handed out, nor the token.
 */
import type { VerifierOptions } from '@trustgate/core'
import { decode, humanTimes, type HumanTime } from './decode.js'
import { verdictOf, type Verdict } from './verdict.js'

/** What `inspect` found. */
export interface InspectReport {
  /** Always true: nothing shown under `header` and `claims` is verified by `inspect` itself. */
  readonly untrusted: true
  readonly header: Record<string, unknown>
  readonly claims: Record<string, unknown>
  /** `exp`, `nbf`, `iat`, `auth_time` as ISO dates with the time from now. */
  readonly times: Readonly<Record<string, HumanTime>>
  readonly signatureBytes: number
  /** With `--config`: what `verify` says. */
  readonly verdict: Verdict | null
}

/** Decodes, and with `options` verifies, one token. */
export async function inspectToken(
  token: string,
  options: VerifierOptions | undefined,
  nowMs = Date.now(),
): Promise<InspectReport> {
  const decoded = decode(token)
  const times = humanTimes(decoded.claims, nowMs)
  const verdict = options === undefined ? null : await verdictOf(token, options)
  return {
    untrusted: true,
    header: decoded.header,
    claims: decoded.claims,
    times,
    signatureBytes: decoded.signatureBytes,
    verdict,
  }
}
