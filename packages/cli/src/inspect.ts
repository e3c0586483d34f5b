/**
 * `trustgate inspect`: decodes a token read from standard input (never from argv, where it would
 * land in shell history and in `ps`) and shows its header and claims marked as untrusted, with
 * times in human form. With a verifier configuration it also gives the verdict `verify` would
 * give, and the step of API.md's order of checks that refused the token. The signature is never
 * printed, nor the token.
 */
import { pathToFileURL } from 'node:url'
import { readFile } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
import {
  CONFIG_ERROR_PREFIX,
  createVerifier,
  decodeUntrusted,
  isAuthError,
  type Logger,
  type VerifierOptions,
} from '@trustgate/core'
import { show } from './text.js'

/** A refused or accepted token, as `verify` judged it. */
export type Verdict =
  | {
      readonly valid: true
      readonly principal: {
        readonly key: string
        readonly issuer: string
        readonly subject: string
        readonly audience: readonly string[]
        readonly scopes: readonly string[]
        readonly expiresAt: string | null
      }
    }
  | {
      readonly valid: false
      readonly code: string
      readonly reason: string
      readonly status: number
      readonly description: string
      /** The step of API.md's order of checks that refused the token. */
      readonly step: string
    }

/** What `inspect` found. */
export interface InspectReport {
  /** Always true: nothing shown under `header` and `claims` is verified by `inspect` itself. */
  readonly untrusted: true
  readonly header: Record<string, unknown>
  readonly claims: Record<string, unknown>
  /** `exp`, `nbf`, `iat`, `auth_time` as ISO dates with the time from now. */
  readonly times: Readonly<Record<string, { readonly date: string; readonly relative: string }>>
  readonly signatureBytes: number
  /** With `--config`: what `verify` says. */
  readonly verdict: Verdict | null
}

/** A usage or configuration problem: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** A token that is not a JWT at all: exit code 1, like any refused token. */
export class MalformedTokenError extends Error {
  override name = 'MalformedTokenError'
}

const TIME_CLAIMS = ['exp', 'nbf', 'iat', 'auth_time'] as const

/** Which step of API.md's order of checks gives each reason (STEP 8/9 are added by later issues). */
const STEPS: Readonly<Record<string, string>> = {
  malformed: 'STEP 2: decode',
  untrusted_issuer: 'STEP 3: issuer allowlist',
  unknown_kid: 'STEP 4: key lookup',
  jwks_unavailable: 'STEP 4: key lookup',
  alg_not_allowed: 'STEP 5: algorithm and key',
  key_mismatch: 'STEP 5: algorithm and key',
  bad_signature: 'STEP 6: signature',
  unsupported_crit: 'STEP 7: claims',
  invalid_claim: 'STEP 7: claims',
  missing_exp: 'STEP 7: claims',
  expired: 'STEP 7: claims',
  not_yet_valid: 'STEP 7: claims',
  issued_in_future: 'STEP 7: claims',
  missing_iat: 'STEP 7: claims',
  token_too_old: 'STEP 7: claims',
  audience_mismatch: 'STEP 7: claims',
  missing_subject: 'STEP 7: claims',
  typ_mismatch: 'STEP 7: claims',
  invalid_dpop_proof: 'STEP 8: sender constraint',
  use_dpop_nonce: 'STEP 8: sender constraint',
  revoked: 'STEP 9: revocation',
}

/** "in 4 min 59 s" / "3 h 2 min ago". */
export function relativeTime(seconds: number, nowSeconds: number): string {
  const delta = Math.round(seconds - nowSeconds)
  let rest = Math.abs(delta)
  const parts: string[] = []
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['min', 60],
  ] as const) {
    if (rest >= size) {
      parts.push(`${String(Math.floor(rest / size))} ${unit}`)
      rest %= size
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${String(rest)} s`)
  const span = parts.slice(0, 2).join(' ')
  return delta === 0 ? 'now' : delta > 0 ? `in ${span}` : `${span} ago`
}

/** A silent logger: the verdict is the output, not the verifier's log lines. */
const SILENT: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined }

/** Loads verifier options from `.json`, or a module's default export (`.js`, `.mjs`, `.cjs`). */
export async function loadConfig(file: string): Promise<VerifierOptions> {
  const path = resolve(file)
  let options: unknown
  try {
    if (extname(path) === '.json') {
      options = JSON.parse(await readFile(path, 'utf8'))
    } else {
      const module = (await import(pathToFileURL(path).href)) as { default?: unknown }
      options = module.default
    }
  } catch (error) {
    throw new UsageError(
      `cannot load --config ${file}: ${error instanceof Error ? error.message : 'unknown error'}`,
    )
  }
  if (typeof options !== 'object' || options === null) {
    throw new UsageError(`--config ${file} must hold verifier options (an object)`)
  }
  return options as VerifierOptions
}

/**
 * Takes the token out of what was read: surrounding whitespace, and a `Bearer ` prefix as pasted
 * from a header, are dropped.
 */
export function tokenFromInput(input: string): string {
  const token = input.trim().replace(/^bearer\s+/i, '')
  if (token === '') throw new UsageError('no token on standard input')
  return token
}

/** Decodes, and with `options` verifies, one token. */
export async function inspectToken(
  token: string,
  options: VerifierOptions | undefined,
  nowMs = Date.now(),
): Promise<InspectReport> {
  const decoded = decodeUntrusted(token)
  if (decoded === undefined) {
    throw new MalformedTokenError(
      'the input is not a JWT: three base64url parts, the first two JSON objects',
    )
  }
  const times: Record<string, { date: string; relative: string }> = {}
  for (const name of TIME_CLAIMS) {
    const value = decoded.claims[name]
    if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) < 8.64e12) {
      times[name] = {
        date: new Date(value * 1000).toISOString(),
        relative: relativeTime(value, nowMs / 1000),
      }
    }
  }
  let verdict: Verdict | null = null
  if (options !== undefined) {
    let verifier
    try {
      verifier = createVerifier({ ...options, logger: options.logger ?? SILENT })
    } catch (error) {
      throw new UsageError(
        `--config is not valid: ${error instanceof Error ? error.message.replace(CONFIG_ERROR_PREFIX, '') : 'unknown error'}`,
      )
    }
    try {
      const principal = await verifier.verify(token)
      verdict = {
        valid: true,
        principal: {
          key: principal.key,
          issuer: principal.issuer,
          subject: principal.subject,
          audience: principal.audience,
          scopes: principal.scopes,
          expiresAt: principal.expiresAt?.toISOString() ?? null,
        },
      }
    } catch (error) {
      if (!isAuthError(error)) throw error
      verdict = {
        valid: false,
        code: error.code,
        reason: error.reason,
        status: error.status,
        description: error.message,
        step: STEPS[error.reason] ?? 'a step this CLI does not know',
      }
    }
  }
  return {
    untrusted: true,
    header: decoded.header,
    claims: decoded.claims,
    times,
    signatureBytes: decoded.signatureBytes,
    verdict,
  }
}

function table(object: Record<string, unknown>, times: InspectReport['times']): string[] {
  const names = Object.keys(object)
  const width = Math.max(0, ...names.map((name) => show(name).length - 2))
  return names.map((name) => {
    const time = times[name]
    const value = show(object[name])
    const label = show(name).slice(1, -1)
    return `  ${label.padEnd(width)}  ${value}${time === undefined ? '' : `  (${time.date}, ${time.relative})`}`
  })
}

/** The human form of a report. */
export function formatInspect(report: InspectReport): string {
  const lines = [
    'UNTRUSTED: decoded without verifying anything; the values below prove nothing by themselves.',
    '',
    'header (untrusted)',
    ...table(report.header, {}),
    '',
    'claims (untrusted)',
    ...table(report.claims, report.times),
    '',
    `signature: ${String(report.signatureBytes)} bytes (not shown)`,
  ]
  const { verdict } = report
  if (verdict !== null) {
    lines.push('')
    if (verdict.valid) {
      lines.push(
        'verdict: VALID (verified with --config)',
        `  principal key  ${show(verdict.principal.key)}`,
        `  scopes         ${show(verdict.principal.scopes)}`,
      )
    } else {
      lines.push(
        `verdict: REFUSED at ${verdict.step}`,
        `  code    ${verdict.code} (HTTP ${String(verdict.status)})`,
        `  reason  ${verdict.reason}: ${verdict.description}`,
      )
    }
  }
  return lines.join('\n')
}
