/**
 * The `--config` part of `inspect`: loads verifier options from a file, and gives the verdict
 * `verify` would give, with the step of API.md's order of checks that refused the token. The
 * token goes through the real verifier, silenced: the verdict is the output, not its log lines.
 */
import { pathToFileURL } from 'node:url'
import { readFile } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
import {
  CONFIG_ERROR_PREFIX,
  createVerifier,
  isAuthError,
  type Logger,
  type VerifierOptions,
} from '@trustgate/core'
import { UsageError } from '../errors.js'

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

/** What `verify` says of `token` with `options`; bad options are a {@link UsageError}. */
export async function verdictOf(token: string, options: VerifierOptions): Promise<Verdict> {
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
    return {
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
    return {
      valid: false,
      code: error.code,
      reason: error.reason,
      status: error.status,
      description: error.message,
      step: STEPS[error.reason] ?? 'a step this CLI does not know',
    }
  }
}
