/**
 * `auditLogger()`: pino-http with svcauth's redaction and actor fields, and `req.audit(...)` for
 * business events. Mount it first, before authenticate(), so rejected requests are logged too.
 */
import { createAuditLogger, type AuditLoggerOptions } from '@svcauth/audit'
import type { IncomingMessage } from 'node:http'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { Logger } from 'pino'
import './state.js'

/** The middleware, with the pino logger its lines go to. */
export interface AuditLoggerMiddleware extends RequestHandler {
  readonly logger: Logger
}

/**
 * Logs every request with `actor_type`, `actor_id`, `sub`, `client_id`, the auth outcome and the
 * rejection reason, with credentials masked; adds `req.audit(event, details)`.
 *
 * @example
 * ```ts
 * app.use(auditLogger(), authenticate({ issuer, audience: 'billing', jwksUri }))
 * app.post('/invoices/:id/pay', requireScopes('billing.write'), (req, res) => {
 *   req.audit?.('invoice_paid', { target: req.params.id })
 *   res.status(204).end()
 * })
 * ```
 */
export function auditLogger(options: AuditLoggerOptions = {}): AuditLoggerMiddleware {
  const audit = createAuditLogger(options, { routeOf: expressRoute })
  const middleware = function auditLogger(req: Request, res: Response, next: NextFunction): void {
    audit.http(req, res)
    req.audit = (event, details) => {
      audit.event(req, event, details)
    }
    next()
  }
  return Object.assign(middleware, { logger: audit.logger })
}

/** The matched route pattern (`/api` + `/nodes/:xname`), when a route matched. */
function expressRoute(req: IncomingMessage): string | undefined {
  const { route, baseUrl } = req as { route?: { path?: unknown }; baseUrl?: string }
  const path = route?.path
  return typeof path === 'string' ? `${baseUrl ?? ''}${path}` : undefined
}
