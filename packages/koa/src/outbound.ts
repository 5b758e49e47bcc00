/**
 * `outbound(svc)`: puts `ctx.outbound.fetch` / `ctx.outbound.request` on the context, bound to the
 * request's caller, so a user's token reaches the targets that accept it and everything else gets
 * the service's own token.
 */
import type { ServiceClient } from '@svcauth/client'
import type { Middleware, Next, ParameterizedContext } from 'koa'
import type { AuthState, OutboundContext } from './state.js'

/**
 * Exposes the service client on each context, bound to `ctx.state.auth`. Mount it after
 * authenticate().
 *
 * @example
 * ```ts
 * app.use(authenticate({ issuer, audience: 'bss', jwksUri })).use(outbound(svc))
 * router.get('/boot/v1/bootparameters', async (ctx) => {
 *   const smd = await ctx.outbound.fetch('http://smd:27779/hsm/v2/State/Components')
 *   ctx.body = await smd.json()
 * })
 * ```
 */
export function outbound(svc: ServiceClient): Middleware<AuthState, OutboundContext> {
  return async function outbound(
    ctx: ParameterizedContext<AuthState, OutboundContext>,
    next: Next,
  ): Promise<void> {
    ctx.outbound = svc.forPrincipal(ctx.state.auth, ctx.res)
    await next()
  }
}
