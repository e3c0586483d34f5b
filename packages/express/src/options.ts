/**
 * The middleware's options, checked once when `jwtAuth()` is called: a misspelt or mistyped
 * option is a `TypeError` naming it, never a setting left at its default in silence. What is left
 * over is the verifier's, and goes to `createVerifier`.
 */
import {
  ADAPTER_OPTION_NAMES,
  checkOptionNames,
  checkOriginOption,
  configError,
  type VerifierOptions,
  VERIFIER_OPTION_NAMES,
} from '@trustgate/core'
import type { ExpressJwtAuthOptions } from './types.js'

ADAPTER_OPTION_NAMES satisfies readonly (keyof ExpressJwtAuthOptions)[]
const OPTION_NAMES = new Set<string>([...VERIFIER_OPTION_NAMES, ...ADAPTER_OPTION_NAMES])

/** The middleware's options once checked, with the defaults applied. */
export type Settings = {
  readonly [K in 'getToken' | 'skip' | 'getClientCertificate' | 'origin']-?:
    ExpressJwtAuthOptions[K] | undefined
} & {
  readonly respond: boolean
  readonly required: boolean
  readonly verifierOptions: VerifierOptions
}

/** Checks the options and splits off the verifier's. Throws a `TypeError` naming a bad one. */
export function readOptions(options: ExpressJwtAuthOptions): Settings {
  // A misspelt option (`respnd: true`) must not leave its setting at the default in silence.
  checkOptionNames(options, OPTION_NAMES)
  const {
    getToken,
    respond = false,
    required = false,
    skip,
    getClientCertificate,
    origin,
    ...verifierOptions
  } = options
  checkOriginOption(origin, verifierOptions.dpop !== undefined)
  if (getToken !== undefined && typeof getToken !== 'function') {
    throw configError('getToken', 'must be a function')
  }
  if (typeof respond !== 'boolean') throw configError('respond', 'must be a boolean')
  if (typeof required !== 'boolean') throw configError('required', 'must be a boolean')
  if (skip !== undefined && typeof skip !== 'function') {
    throw configError('skip', 'must be a function')
  }
  if (getClientCertificate !== undefined && typeof getClientCertificate !== 'function') {
    throw configError('getClientCertificate', 'must be a function')
  }
  return { getToken, respond, required, skip, getClientCertificate, origin, verifierOptions }
}
