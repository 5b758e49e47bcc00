/**
 * Option validation helpers: every option is checked once, at construction, and a mistake is a
 * `TypeError` naming the option (never a 4xx at request time).
 */

/** Throws the TypeError for a configuration mistake. */
export function fail(message: string): never {
  throw new TypeError(`svcauth: ${message}`)
}

/** A finite number from `min` to `max`, or `fallback` when absent. */
export function num(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(`${name} must be a finite number from ${min} to ${max}`)
  }
  return value
}

/** A function, or undefined. */
export function optionalFn<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') fail(`${name} must be a function`)
  return value
}
