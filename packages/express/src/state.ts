/**
 * Per-request auth state, kept under a symbol on the request so guards know whether
 * authenticate() ran and how to answer. `req.auth` is the public, typed view of it.
 */
import type { Principal } from '@svcauth/core'
import type { Request } from 'express'

export interface RequestAuthState {
  readonly principal: Principal | undefined
  readonly realm: string
  readonly respond: boolean
}

const STATE = Symbol.for('svcauth.express.state')

export function setState(req: Request, state: RequestAuthState): void {
  Object.defineProperty(req, STATE, { value: state, configurable: true, enumerable: false })
  req.auth = state.principal
}

export function getState(req: Request): RequestAuthState | undefined {
  return (req as unknown as Record<symbol, RequestAuthState | undefined>)[STATE]
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified caller, set by svcauth's authenticate(); undefined when anonymous. */
      auth?: Principal | undefined
    }
  }
}
