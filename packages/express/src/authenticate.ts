/**
 * Express adapter: translate the request, call the core, then answer or hand off. The rest of the
 * request runs inside the auth context (AsyncLocalStorage).
 */
import {
  createAuthenticator,
  runWithPrincipal,
  type Authenticator,
  type AuthenticatorOptions,
} from '@svcauth/core'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { fail } from './respond.js'
import { setState } from './state.js'

/** Options of {@link authenticate}: the core's, plus how errors are answered. */
export interface AuthenticateOptions extends AuthenticatorOptions {
  /** Answer auth errors with a JSON body (true) or pass them to `next(err)` (false). @default true */
  respond?: boolean
}

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
    authenticator
      .authenticate({
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        url: req.originalUrl,
        body: req.body as unknown,
      })
      .then(
        (principal) => {
          setState(req, { principal, realm, respond })
          runWithPrincipal(principal, next)
        },
        (err: unknown) => {
          fail(err, res, next, respond)
        },
      )
  }
  return Object.assign(middleware, { authenticator })
}
