/**
 * How authentication ended for a request, for access logs and audit lines.
 */
import { type AuthOutcome } from '@svcauth/core'
import { outcomeOf } from '@svcauth/core/internal'
import type { Context } from 'koa'

/**
 * The request's auth outcome (`authenticated`, `anonymous` or `rejected` with its `reason`), or
 * undefined when no svcauth middleware ran for it.
 *
 * @example
 * ```ts
 * app.use(async (ctx, next) => { await next(); log.info({ reason: authOutcome(ctx)?.reason }) })
 * ```
 */
export function authOutcome(ctx: Context): AuthOutcome | undefined {
  return outcomeOf(ctx.req)
}
