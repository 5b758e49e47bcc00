/**
 * Express adapter: the core's request flow (`authenticateFlow`: cached fast path, authenticate,
 * record, answer or hand off) with Express's bindings. The rest of the request runs inside the
 * auth context (AsyncLocalStorage), which closes with the response.
 */
import type { AdapterOptions, Authenticator } from '@svcauth/core'
import { authenticateFlow } from '@svcauth/core/internal'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { EXPRESS } from './bindings.js'

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
  const { authenticator, run } = authenticateFlow(options, EXPRESS)
  const middleware = function authenticate(req: Request, res: Response, next: NextFunction): void {
    void run(req, res, next)
  }
  return Object.assign(middleware, { authenticator })
}
