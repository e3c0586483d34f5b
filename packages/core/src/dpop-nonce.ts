/**
 * Stateless DPoP server nonces (RFC 9449 s8, s9). A nonce is the HMAC of a time step under a secret
 * that every instance shares, so any instance can check a nonce another one issued, with no shared
 * store and no per-client state: `<step in base 36>.<HMAC-SHA-256 in base64url>`.
 */
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto'

/** Seconds of one nonce time step. A nonce is accepted in its step and the steps either side. */
export const DPOP_NONCE_STEP_S = 60

const NONCE = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{43})$/

/** The nonces of one verifier. */
export interface DpopNonces {
  /** A proof without a nonce is refused (`dpop.nonce.required`). */
  readonly required: boolean
  /** The nonce to hand out now (in `DPoP-Nonce`). */
  current(nowMs: number): string
  /** True for a nonce of the current step, the previous one, or the next one. */
  isValid(value: string, nowMs: number): boolean
}

/** The nonces of `dpop.nonce` (its secret's key, validated in dpop-options.ts). */
export function createDpopNonces(options: {
  readonly key: KeyObject
  readonly required: boolean
}): DpopNonces {
  const { key, required } = options
  // The nonce of the current step is computed once per step, not per request.
  let currentStep = Number.NaN
  let currentNonce = ''
  function nonceOf(step: number): string {
    const mac = createHmac('sha256', key)
      .update(`trustgate dpop nonce ${String(step)}`)
      .digest('base64url')
    return `${step.toString(36)}.${mac}`
  }
  function current(nowMs: number): string {
    const step = Math.floor(nowMs / 1000 / DPOP_NONCE_STEP_S)
    if (step !== currentStep) {
      currentStep = step
      currentNonce = nonceOf(step)
    }
    return currentNonce
  }
  return {
    required,
    current,
    isValid(value, nowMs) {
      if (value === current(nowMs)) return true
      const match = NONCE.exec(value)
      if (match === null) return false
      const step = parseInt(match[1] as string, 36)
      // The previous step, or the next one (another instance's clock may be a little ahead).
      if (Math.abs(step - currentStep) !== 1) return false
      return timingSafeEqual(Buffer.from(nonceOf(step)), Buffer.from(value))
    },
  }
}
