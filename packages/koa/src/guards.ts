/**
 * Koa route guards (for `@koa/router` routes or plain `app.use`): the core guards, translated.
 * Each fails closed when authenticate() did not run before it. `@koa/router` answers HEAD with GET
 * routes, so a guard on a GET route covers HEAD too.
 */
import * as core from '@svcauth/core'
import type { Guard } from '@svcauth/core'
import { guardFlow } from '@svcauth/core/internal'
import type { Middleware, Next, ParameterizedContext } from 'koa'
import { KOA } from './bindings.js'
import type { AuthState } from './state.js'

/** The core's guard flow (`guardFlow`) with Koa's bindings. */
function middleware(guard: Guard): Middleware<AuthState> {
  const run = guardFlow(guard, KOA)
  return function guardRequest(ctx: ParameterizedContext<AuthState>, next: Next) {
    // A refused request resolves at once, as an answered Koa middleware does.
    return run(ctx, ctx.res, next) ?? Promise.resolve()
  }
}

/**
 * Requires every listed scope (403 `insufficient_scope` with `scope="…"` otherwise).
 *
 * @example
 * ```ts
 * router.post('/boot/v1/bootparameters', requireScopes('bss.write'), handler)
 * ```
 */
export function requireScopes(...scopes: (string | readonly string[])[]): Middleware<AuthState> {
  return middleware(core.requireScopes(...scopes))
}

/**
 * Requires at least one of the listed scopes.
 *
 * @example
 * ```ts
 * router.get('/boot/v1/bootparameters', requireAnyScope('bss.read', 'bss.admin'), handler)
 * ```
 */
export function requireAnyScope(...scopes: (string | readonly string[])[]): Middleware<AuthState> {
  return middleware(core.requireAnyScope(...scopes))
}

/**
 * Requires a `'user'` or a `'client'` (service) caller.
 *
 * @example
 * ```ts
 * router.delete('/boot/v1/bootparameters', requireActor('user'), handler)
 * ```
 */
export function requireActor(type: core.ActorType): Middleware<AuthState> {
  return middleware(core.requireActor(type))
}

/**
 * Requires a claim to equal a value, or to satisfy a predicate (403 `insufficient_scope` otherwise).
 *
 * @example
 * ```ts
 * requireClaim('role', 'operator')
 * requireClaim('tenant', (tenant) => tenant === 'x3000')
 * ```
 */
export function requireClaim(
  name: string,
  expected: core.ClaimValue | core.ClaimPredicate,
): Middleware<AuthState> {
  return middleware(core.requireClaim(name, expected))
}

/**
 * Requires an array or space-delimited claim to include every listed value.
 *
 * @example
 * ```ts
 * requireClaimIncludes('groups', 'hpc-admins')
 * ```
 */
export function requireClaimIncludes(
  name: string,
  ...values: readonly (string | number | boolean)[]
): Middleware<AuthState> {
  return middleware(core.requireClaimIncludes(name, ...values))
}
