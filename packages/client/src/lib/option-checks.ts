/**
 * The checks option resolution is made of. A mistake is a TypeError whose message names the
 * option and what it must be, thrown at construction, never a failure at request time.
 */

/** Throws the client's TypeError for a configuration mistake. */
export function optionError(message: string): never {
  throw new TypeError(`svcauth client: ${message}`)
}

/**
 * `value`, or `fallback` when it is undefined; a number (of `kind`: any finite number, or a whole
 * number for counts) from `min` to `max`, else a TypeError.
 */
export function numberIn(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  kind: 'number' | 'whole number' = 'number',
): number {
  if (value === undefined) return fallback
  const valid =
    typeof value === 'number' &&
    (kind === 'number' ? Number.isFinite(value) : Number.isInteger(value)) &&
    value >= min &&
    value <= max
  if (!valid) optionError(`${name} must be a ${kind} from ${min} to ${max}`)
  return value
}

/** A string or a list of strings without spaces, deduplicated, sorted and frozen. */
export function stringList(name: string, value: unknown): readonly string[] {
  if (value === undefined) return []
  const items = typeof value === 'string' ? [value] : value
  if (
    !Array.isArray(items) ||
    !items.every((v) => typeof v === 'string' && v !== '' && !/\s/.test(v))
  ) {
    optionError(`${name} must be a string or an array of strings without spaces`)
  }
  return Object.freeze([...new Set(items as string[])].sort())
}
