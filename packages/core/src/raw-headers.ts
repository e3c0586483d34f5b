/**
 * Header values from Node's `rawHeaders` list (name, value, name, value, ...). The checks that must
 * see a repeated header (a smuggled second `Authorization`, two `DPoP` proofs, two forwarded
 * certificates) read this list, since `req.headers` keeps only the first of some fields and joins
 * others, and `headersDistinct` is missing under `fastify.inject()`.
 */

/** The values of every header named `name` (lower case), in the order they came. */
export function headerValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = []
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const field = rawHeaders[i]
    // The length first: most fields are not the one sought, and this skips their lower-casing.
    if (field !== undefined && field.length === name.length && field.toLowerCase() === name) {
      values.push(rawHeaders[i + 1] ?? '')
    }
  }
  return values
}
