/**
 * Express request typings, in one declared place: what svcauth's middlewares put on `req`. The
 * full per-request auth state lives in the core (`attachAuthState` on the request object); these
 * are the typed views of it and of the other middlewares' additions.
 */
import type { AuditDetails } from '@svcauth/audit'
import type { OutboundCalls } from '@svcauth/client'
import type { Principal } from '@svcauth/core'

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified caller, set by svcauth's authenticate(); undefined when anonymous. */
      auth?: Principal | undefined
      /** Writes one audit line attributed to this request's caller; set by svcauth's auditLogger(). */
      audit?: (event: string, details?: AuditDetails) => void
      /** Outbound calls on behalf of this request's caller, set by svcauth's outbound(). */
      outbound?: OutboundCalls
    }
  }
}
