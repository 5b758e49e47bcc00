/**
 * Koa adapter: translate the context, call the core, then answer or throw. The rest of the request
 * runs inside the auth context (AsyncLocalStorage), which closes with the response. Same names
 * and behaviour as the Express adapter.
 */
import {
  createAuthenticator,
  type AdapterOptions,
  type Authenticator,
  type Principal,
  type RequestLike,
} from '@svcauth/core'
import { asAuthError, attachAuthState, runWithRequest } from '@svcauth/core/internal'
import type { Middleware, Next, ParameterizedContext } from 'koa'
import { answer } from './respond.js'

/** Options of {@link authenticate}: the core's, plus `respond` (JSON answers or a thrown error). */
export type AuthenticateOptions = AdapterOptions

/** What svcauth puts on `ctx.state`: type your app as `Koa<AuthState>` or middleware as `Middleware<AuthState>`. */
export interface AuthState {
  /** The verified caller; undefined when anonymous (optional authentication). */
  auth?: Principal | undefined
}

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
  const authenticator = createAuthenticator(options)
  const respond = options.respond !== false
  const { realm } = authenticator
  const accept = (ctx: ParameterizedContext<AuthState>, principal: Principal | undefined) => {
    attachAuthState(ctx.req, { principal, realm, respond, response: ctx.res })
    ctx.state.auth = principal
  }
  const verify = async (
    ctx: ParameterizedContext<AuthState>,
    request: RequestLike,
    next: Next,
  ): Promise<void> => {
    let principal: Principal | undefined
    try {
      principal = await authenticator.authenticate(request)
    } catch (err) {
      const error = asAuthError(err, realm)
      attachAuthState(ctx.req, { principal: undefined, realm, respond, error })
      answer(ctx, error, respond)
      return
    }
    accept(ctx, principal)
    await runWithRequest(principal, ctx.res, next)
  }
  const middleware = function authenticate(
    ctx: ParameterizedContext<AuthState>,
    next: Next,
  ): Promise<void> {
    const request: RequestLike = {
      headers: ctx.req.headers,
      rawHeaders: ctx.req.rawHeaders,
      url: ctx.originalUrl,
      body: (ctx.request as { body?: unknown }).body,
    }
    // A verified-cache hit needs no extra promise: the common case of a service reusing its token.
    const cached = authenticator.authenticateCached(request)
    if (cached === undefined) return verify(ctx, request, next)
    accept(ctx, cached)
    return runWithRequest(cached, ctx.res, next) as Promise<void>
  }
  return Object.assign(middleware, { authenticator })
}
