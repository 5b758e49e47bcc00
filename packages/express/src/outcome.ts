/**
 * How authentication ended for a request, for access logs and audit lines.
 */
import { type AuthOutcome } from '@svcauth/core'
import { outcomeOf } from '@svcauth/core/internal'
import type { Request } from 'express'

/**
 * The request's auth outcome (`authenticated`, `anonymous` or `rejected` with its `reason`), or
 * undefined when no svcauth middleware ran for it.
 *
 * @example
 * ```ts
 * res.on('finish', () => log.info({ reason: authOutcome(req)?.reason }))
 * ```
 */
export function authOutcome(req: Request): AuthOutcome | undefined {
  return outcomeOf(req)
}
