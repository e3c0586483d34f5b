/**
 * The plugin's options, checked once at registration: a misspelt or mistyped option is a
 * `TypeError` naming it, never a setting left at its default in silence. What is left over is the
 * verifier's, and goes to `createVerifier`.
 */
import {
  ADAPTER_OPTION_NAMES,
  checkOptionNames,
  checkOriginOption,
  configError,
  type ReadyOptions,
  type VerifierOptions,
  VERIFIER_OPTION_NAMES,
} from '@trustgate/core'
import type { FastifyJwtAuthOptions } from './types.js'

/** The option names the plugin takes besides the verifier's. */
const PLUGIN_OPTION_NAMES = [
  ...ADAPTER_OPTION_NAMES,
  'waitForKeys',
] as const satisfies readonly (keyof FastifyJwtAuthOptions)[]
const OPTION_NAMES = new Set<string>([...VERIFIER_OPTION_NAMES, ...PLUGIN_OPTION_NAMES])

/** The plugin's options once checked, with the defaults applied. */
export type Settings = {
  readonly [K in 'getToken' | 'skip' | 'getClientCertificate' | 'origin']-?:
    FastifyJwtAuthOptions[K] | undefined
} & {
  readonly respond: boolean
  readonly required: boolean
  /** `waitForKeys` as `ready()` options, or `undefined` when off. */
  readonly readyOptions: ReadyOptions | undefined
  readonly verifierOptions: VerifierOptions
}

/** The `waitForKeys` option as `ready()` options, or `undefined` when off. */
function readyOptionsOf(value: unknown): ReadyOptions | undefined {
  if (value === false) return undefined
  if (value === true) return {}
  if (typeof value === 'object' && value !== null) {
    checkOptionNames(value, ['timeout'], 'waitForKeys')
    const { timeout } = value as { timeout?: unknown }
    if (timeout === undefined) return {}
    if (typeof timeout === 'number' && Number.isSafeInteger(timeout) && timeout > 0) {
      return { timeout }
    }
    throw configError('waitForKeys.timeout', 'must be an integer number of milliseconds > 0')
  }
  throw configError('waitForKeys', 'must be a boolean or { timeout }')
}

/** Checks the options and splits off the verifier's. Throws a `TypeError` naming a bad one. */
export function readOptions(options: FastifyJwtAuthOptions): Settings {
  // A misspelt option (`respnd: false`) must not leave its setting at the default in silence.
  checkOptionNames(options, OPTION_NAMES)
  const {
    getToken,
    respond = true,
    required = false,
    skip,
    getClientCertificate,
    origin,
    waitForKeys = false,
    ...verifierOptions
  } = options
  checkOriginOption(origin, verifierOptions.dpop !== undefined)
  if (getToken !== undefined && typeof getToken !== 'function') {
    throw configError('getToken', 'must be a function')
  }
  if (getClientCertificate !== undefined && typeof getClientCertificate !== 'function') {
    throw configError('getClientCertificate', 'must be a function')
  }
  if (typeof respond !== 'boolean') throw configError('respond', 'must be a boolean')
  if (typeof required !== 'boolean') throw configError('required', 'must be a boolean')
  if (skip !== undefined && typeof skip !== 'function') {
    throw configError('skip', 'must be a function')
  }
  const readyOptions = readyOptionsOf(waitForKeys)
  return {
    getToken,
    respond,
    required,
    skip,
    getClientCertificate,
    origin,
    readyOptions,
    verifierOptions,
  }
}
