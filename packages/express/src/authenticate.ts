/**
 * Express adapter: translate the request, call the core, then answer or hand off. The rest of the
 * request runs inside the auth context (AsyncLocalStorage), which closes with the response.
 */
import {
  createAuthenticator,
  type AdapterOptions,
  type Authenticator,
  type Principal,
} from '@svcauth/core'
import { asAuthError, attachAuthState, runWithRequest } from '@svcauth/core/internal'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { answer } from './respond.js'
import './state.js'

/** Options of {@link authenticate}: the core's, plus `respond` (JSON answers or `next(err)`). */
export type AuthenticateOptions = AdapterOptions

/** The middleware, with its authenticator for `ready()` and `close()`. */
export interface AuthenticateMiddleware extends RequestHandler {
  readonly authenticator: Authenticator
}

/**
 * Verifies the bearer token of every request and sets `req.auth`.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { authenticate, requireScopes } from '@svcauth/express'
 *
 * const app = express()
 * app.use(authenticate({ issuer: 'https://hydra.example/', audience: 'smd', jwksUri: 'https://hydra.example/.well-known/jwks.json' }))
 * app.get('/State/Components', requireScopes('smd.read'), (req, res) => res.json({ caller: req.auth?.actorId }))
 * ```
 */
export function authenticate(options: AuthenticateOptions): AuthenticateMiddleware {
  const authenticator = createAuthenticator(options)
  const respond = options.respond !== false
  const { realm } = authenticator
  const middleware = function authenticate(req: Request, res: Response, next: NextFunction): void {
    const request = {
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      url: req.originalUrl,
      body: req.body as unknown,
    }
    const accept = (principal: Principal | undefined): void => {
      attachAuthState(req, { principal, realm, respond, response: res })
      req.auth = principal
      runWithRequest(principal, res, next)
    }
    // A verified-cache hit needs no promise: the common case of a service reusing its token.
    const cached = authenticator.authenticateCached(request)
    if (cached !== undefined) {
      accept(cached)
      return
    }
    authenticator.authenticate(request).then(accept, (err: unknown) => {
      const error = asAuthError(err, realm)
      attachAuthState(req, { principal: undefined, realm, respond, error })
      answer(error, res, next, respond)
    })
  }
  return Object.assign(middleware, { authenticator })
}
