/**
 * The shape of every start-up error, the check that refuses option names nobody reads, and the
 * number checks several option levels share. A misspelt option (`clockTolerence: 30`) would
 * otherwise be ignored in silence, and the setting the user meant would never take effect.
 */

/** Every configuration error starts with this, so that a log line says where it comes from. */
export const CONFIG_ERROR_PREFIX = 'trustgate: '

/** The TypeError of a bad option: `trustgate: <field> <problem>`. */
export function configError(field: string, problem: string): TypeError {
  return new TypeError(`${CONFIG_ERROR_PREFIX}${field} ${problem}`)
}

/** Throws {@link configError}. */
export function fail(field: string, problem: string): never {
  throw configError(field, problem)
}

/**
 * The option names of one level, as a set. Typed against the level's interface, so that a field
 * added there and not here (or here and not there) fails to compile.
 */
export function optionNames<T>(names: Readonly<Record<keyof T, true>>): ReadonlySet<string> {
  return Object.freeze(new Set(Object.keys(names)))
}

/** A number of seconds >= 0, or `fallback` when left out. */
export function seconds(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(field, 'must be a finite number of seconds >= 0')
  }
  return value
}

/** An integer >= `min`, or `fallback` when left out. */
export function integer(value: unknown, field: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail(field, `must be an integer >= ${String(min)}`)
  }
  return value
}

// Levenshtein distance, capped: only to suggest a name for a typo, at start-up.
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      )
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

function suggestion(name: string, allowed: Iterable<string>): string {
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of allowed) {
    const d = candidate.toLowerCase() === name.toLowerCase() ? 0 : distance(name, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  // Names are short: two edits or fewer is a typo, more is another word.
  return best !== undefined && bestDistance <= 2 ? ` (did you mean ${best}?)` : ''
}

/**
 * Throws a TypeError naming the first own key of `options` that is not in `allowed`:
 * `trustgate: issuers[0].clockTolerence is not an option (did you mean clockTolerance?)`.
 * `field` is where `options` sits (`issuers[0]`, `jwks`), or `''` at the top level. For the
 * adapters too: they check their own option names with it, and hand the rest to `createVerifier`.
 */
export function checkOptionNames(options: object, allowed: Iterable<string>, field = ''): void {
  const names = allowed instanceof Set ? (allowed as ReadonlySet<string>) : new Set(allowed)
  for (const name of Object.keys(options)) {
    if (!names.has(name)) {
      fail(field === '' ? name : `${field}.${name}`, `is not an option${suggestion(name, names)}`)
    }
  }
}

/**
 * The option names both adapters take besides the verifier's, in the order their
 * `checkOptionNames` suggestions consider them (an adapter may add its own after these).
 */
export const ADAPTER_OPTION_NAMES = [
  'getToken',
  'respond',
  'required',
  'skip',
  'getClientCertificate',
  'origin',
] as const
