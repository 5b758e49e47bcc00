/**
 * A matcher for configuration checks: the call throws a TypeError (a mistake caught at
 * construction, never a 4xx at request time) whose message matches, so a test pins which mistake
 * was reported, not only that one was.
 */
import { expect } from 'vitest'

/**
 * @example
 * ```ts
 * expect(() => createAuthenticator({ ...base, realm: 'a"b' })).toThrow(typeError(/realm must be/))
 * ```
 */
export function typeError(message: RegExp): unknown {
  return expect.toSatisfy(
    (err: unknown) => err instanceof TypeError && message.test(err.message),
    `a TypeError whose message matches ${String(message)}`,
  )
}
