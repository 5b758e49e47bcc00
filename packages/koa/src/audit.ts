/**
 * `auditLogger()`: pino-http with svcauth's redaction and actor fields, `ctx.log`, and
 * `ctx.audit(...)` for business events. Mount it first, before authenticate(), so rejected
 * requests are logged too. Same names and behaviour as the Express adapter.
 */
import { createAuditLogger, type AuditLoggerOptions } from '@svcauth/audit'
import type { IncomingMessage } from 'node:http'
import type { Middleware, Next, ParameterizedContext } from 'koa'
import type { Logger } from 'pino'
import type { AuditContext } from './state.js'

/** The middleware, with the pino logger its lines go to. */
export interface AuditLoggerMiddleware extends Middleware<object, AuditContext> {
  readonly logger: Logger
}

const ROUTE = Symbol('svcauth.route')

/**
 * Logs every request with `actor_type`, `actor_id`, `sub`, `client_id`, the auth outcome and the
 * rejection reason, with credentials masked; adds `ctx.audit(event, details)`.
 *
 * @example
 * ```ts
 * app.use(auditLogger())
 * app.use(authenticate({ issuer, audience: 'bss', jwksUri }))
 * router.put('/boot/v1/bootparameters', requireScopes('bss.write'), (ctx) => {
 *   ctx.audit('bootparameters_updated', { target: 'x3000c0s1b0n0' })
 *   ctx.status = 204
 * })
 * ```
 */
export function auditLogger(options: AuditLoggerOptions = {}): AuditLoggerMiddleware {
  const audit = createAuditLogger(options, { routeOf: koaRoute })
  const middleware = async function auditLogger(
    ctx: ParameterizedContext<object, AuditContext>,
    next: Next,
  ): Promise<void> {
    audit.http(ctx.req, ctx.res)
    ctx.log = ctx.req.log
    ctx.audit = (event, details) => {
      audit.event(ctx.req, event, details)
    }
    try {
      await next()
    } finally {
      // @koa/router records the matched pattern (prefix included) on the context.
      const matched: unknown = (ctx as { _matchedRoute?: unknown })._matchedRoute
      if (typeof matched === 'string')
        Object.defineProperty(ctx.req, ROUTE, { value: matched, configurable: true })
    }
  }
  return Object.assign(middleware, { logger: audit.logger })
}

function koaRoute(req: IncomingMessage): string | undefined {
  return (req as unknown as Record<symbol, string | undefined>)[ROUTE]
}
