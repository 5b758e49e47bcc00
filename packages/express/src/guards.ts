/**
 * Express route guards: the core guards, translated. Each fails closed when authenticate() did not
 * run before it. Express routes HEAD to GET handlers, so a guard on a GET route covers HEAD too.
 */
import * as core from '@svcauth/core'
import type { Guard } from '@svcauth/core'
import { guardFlow } from '@svcauth/core/internal'
import type { RequestHandler } from 'express'
import { EXPRESS } from './bindings.js'

/** The core's guard flow (`guardFlow`) with Express's bindings: itself the middleware. */
function middleware(guard: Guard): RequestHandler {
  return guardFlow(guard, EXPRESS)
}

/**
 * Requires every listed scope (403 `insufficient_scope` with `scope="…"` otherwise).
 *
 * @example
 * ```ts
 * app.post('/State/Components', requireScopes('smd.write'), handler)
 * ```
 */
export function requireScopes(...scopes: (string | readonly string[])[]): RequestHandler {
  return middleware(core.requireScopes(...scopes))
}

/**
 * Requires at least one of the listed scopes.
 *
 * @example
 * ```ts
 * app.get('/State/Components', requireAnyScope('smd.read', 'smd.admin'), handler)
 * ```
 */
export function requireAnyScope(...scopes: (string | readonly string[])[]): RequestHandler {
  return middleware(core.requireAnyScope(...scopes))
}

/**
 * Requires a `'user'` or a `'client'` (service) caller.
 *
 * @example
 * ```ts
 * app.delete('/boot/v1/bootparameters', requireActor('user'), handler)
 * ```
 */
export function requireActor(type: core.ActorType): RequestHandler {
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
): RequestHandler {
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
): RequestHandler {
  return middleware(core.requireClaimIncludes(name, ...values))
}
