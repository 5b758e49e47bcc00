/**
 * Koa adapter: the core's request flow (`authenticateFlow`: cached fast path, authenticate,
 * record, answer or throw) with Koa's bindings. The rest of the request runs inside the auth
 * context (AsyncLocalStorage), which closes with the response. Same names and behaviour as the
 * Express adapter.
 */
import type { AdapterOptions, Authenticator } from '@svcauth/core'
import { authenticateFlow } from '@svcauth/core/internal'
import type { Middleware, Next, ParameterizedContext } from 'koa'
import { KOA } from './bindings.js'
import type { AuthState } from './state.js'

/** Options of {@link authenticate}: the core's, plus `respond` (JSON answers or a thrown error). */
export type AuthenticateOptions = AdapterOptions

/** The middleware, with its authenticator for `ready()` and `close()`. */
export interface AuthenticateMiddleware extends Middleware<AuthState> {
  readonly authenticator: Authenticator
}

/**
 * Verifies the bearer token of every request and sets `ctx.state.auth`.
 *
 * @example
 * ```ts
 * import Koa from 'koa'
 * import Router from '@koa/router'
 * import { authenticate, requireScopes, type AuthState } from '@svcauth/koa'
 *
 * const app = new Koa<AuthState>()
 * const router = new Router<AuthState>()
 * router.get('/boot/v1/bootparameters', requireScopes('bss.read'), (ctx) => {
 *   ctx.body = { caller: ctx.state.auth?.actorId }
 * })
 * app.use(authenticate({ issuer: 'https://hydra.example/', audience: 'bss', jwksUri: 'https://hydra.example/.well-known/jwks.json' }))
 * app.use(router.routes())
 * ```
 */
export function authenticate(options: AuthenticateOptions): AuthenticateMiddleware {
  const { authenticator, run } = authenticateFlow(options, KOA)
  const middleware = function authenticate(
    ctx: ParameterizedContext<AuthState>,
    next: Next,
  ): Promise<void> {
    return run(ctx, ctx.res, next)
  }
  return Object.assign(middleware, { authenticator })
}
