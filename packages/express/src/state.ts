/**
 * The typed request view: `req.auth` is the verified caller. The full per-request state lives in
 * the core (`attachAuthState` on the request object).
 */
import type { Principal } from '@svcauth/core'

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified caller, set by svcauth's authenticate(); undefined when anonymous. */
      auth?: Principal | undefined
    }
  }
}
