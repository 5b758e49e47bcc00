/**
 * Koa context typings, in one declared place: what svcauth's middlewares add. Koa's default
 * `ctx.state` is `any`, so type the app as `Koa<AuthState>` and middleware as
 * `Middleware<AuthState, AuditContext & OutboundContext>`. The full per-request auth state lives
 * in the core (`attachAuthState` on `ctx.req`).
 */
import type { AuditDetails } from '@svcauth/audit'
import type { OutboundCalls } from '@svcauth/client'
import type { Principal } from '@svcauth/core'
import type { Logger } from 'pino'

/** What svcauth puts on `ctx.state`: type your app as `Koa<AuthState>` or middleware as `Middleware<AuthState>`. */
export interface AuthState {
  /** The verified caller; undefined when anonymous (optional authentication). */
  auth?: Principal | undefined
}

/** What auditLogger() adds to the context (type middleware as `Middleware<AuthState, AuditContext>`). */
export interface AuditContext {
  /** Writes one audit line attributed to this request's caller. */
  audit: (event: string, details?: AuditDetails) => void
  /** The request's pino logger (pino-http's `req.log`). */
  log: Logger
}

/** The context with `ctx.outbound` (type middleware as `Middleware<AuthState, OutboundContext>`). */
export interface OutboundContext {
  outbound: OutboundCalls
}
