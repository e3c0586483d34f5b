/**
 * STEP 6's bytes: the signing input and the signature of a decoded token, written into the reused
 * buffer (scratch.ts) for the one synchronous crypto call that reads them. The signature is wiped
 * after it, so that the buffer never holds a whole token: what stays there is `<header>.<payload>`,
 * which proves nothing without it.
 */
import { verifySignature, type Algorithm } from './algorithms.js'
import type { VerificationKey } from './jwk.js'
import { scratch } from './scratch.js'
import type { DecodedToken } from './token.js'

/** Checks the signature of a token decoded by `decodeToken`, with `alg` and `key` allowed for it. */
export function verifyDecoded(
  alg: Algorithm,
  key: VerificationKey,
  decoded: DecodedToken,
): boolean {
  const { token, signedLength, signatureBytes } = decoded
  const into = scratch(signedLength + signatureBytes)
  // Every character of the signing input is one of base64url's or a dot (decodeToken checked):
  // its latin1 bytes are its ASCII bytes, with no encoding work.
  into.write(token, 0, signedLength, 'latin1')
  const end = signedLength + into.write(token.slice(signedLength + 1), signedLength, 'base64url')
  try {
    return verifySignature(
      alg,
      key,
      into.subarray(0, signedLength),
      into.subarray(signedLength, end),
    )
  } finally {
    into.fill(0, signedLength, end)
  }
}
