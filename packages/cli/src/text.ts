/**
 * Printing values that come from the network or from a token. JSON escapes C0 controls but leaves
 * DEL, C1 (U+0080-009F, where a terminal reads CSI as U+009B) and the line separators U+2028/9
 * raw: a crafted claim or document could drive the terminal or forge lines. They are escaped too.
 */

/** `value` as JSON (quoted and escaped for strings), safe to print on a terminal. */
export function show(value: unknown): string {
  // JSON.stringify gives undefined for undefined and functions, whatever its declared type says.
  return ((JSON.stringify(value) as string | undefined) ?? 'undefined').replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}
