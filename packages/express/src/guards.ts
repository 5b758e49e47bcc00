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
 * Requires a claim to satisfy a predicate.
 *
 * @example
 * ```ts
 * app.put('/locks', requireClaim('role', (r) => r === 'operator'), handler)
 * ```
 */
export function requireClaim(
  name: string,
  predicate: (value: unknown, claims: Readonly<Record<string, unknown>>) => boolean,
): RequestHandler {
  return middleware(core.requireClaim(name, predicate))
}
