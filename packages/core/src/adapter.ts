/**
 * What the framework adapters share besides the request flow (`flow.ts`), so each adapter file is
 * framework translation only: the per-request auth state (kept under a symbol on Node's
 * IncomingMessage, which Express's `req` is and Koa's `ctx.req` holds, so audit logging reads it
 * the same way for both), the request outcome read by audit logging and tests, guard evaluation
 * that records its rejection, and the conversion of anything thrown into an AuthError.
 */
import {
  AuthError,
  DEFAULT_REALM,
  isAuthError,
  type AuthErrorReason,
  type DpopChallenge,
} from './errors.js'
import { runGuard, type Guard } from './guards.js'
import { responseEnded, type ResponseLike } from './context.js'
import type { Principal } from './principal.js'
import type { AuthenticatorOptions } from './verifier.js'

/** Options of the adapters' `authenticate()`: the core's, plus how errors are answered. */
export interface AdapterOptions extends AuthenticatorOptions {
  /**
   * Answer auth errors with a JSON body (true), or hand them to the framework's error handling
   * (`next(err)` in Express, a thrown error in Koa). @default true
   */
  respond?: boolean
}

/** Per-request state written by `authenticate()` and read by guards. */
export interface RequestAuthState {
  readonly principal: Principal | undefined
  readonly realm: string
  readonly respond: boolean
  /** The request's response, once authenticated: the caller stops being current when it ends. */
  readonly response?: ResponseLike
  /** The rejection, once authentication or a guard refused the request. */
  error?: AuthError
  /** Where DPoP is on: the challenges a guard's refusal answers with (the scheme the request used). */
  readonly dpop?: DpopChallenge | undefined
}

/** How authentication ended for one request, for audit lines and tests. */
export interface AuthOutcome {
  readonly result: 'authenticated' | 'anonymous' | 'rejected'
  readonly principal: Principal | undefined
  readonly reason: AuthErrorReason | undefined
  readonly status: number | undefined
}

const STATE = Symbol.for('svcauth.requestState')

/**
 * Stores the state on `host` (the Node request) under a symbol key: invisible to `Object.keys`,
 * `for…in`, JSON and pino serializers. A plain assignment, not `defineProperty`, and the only
 * property svcauth adds to a request: Express gives every request object its own hidden class, so
 * each property added to one costs V8 a new map and a copy of its ~40 property descriptors
 * (several µs per request measured, issue 17); Express's `req.auth` is an accessor reading this
 * state (`express/src/request-auth.ts`). A WeakMap keyed by the request was measured too: its
 * ephemeron bookkeeping in every garbage collection cost more than the property.
 */
export function attachAuthState(host: object, state: RequestAuthState): RequestAuthState {
  ;(host as Record<symbol, RequestAuthState>)[STATE] = state
  return state
}

export function readAuthState(host: object): RequestAuthState | undefined {
  return (host as Record<symbol, RequestAuthState | undefined>)[STATE]
}

/** The verified caller recorded for `host` (undefined: anonymous, refused, or never authenticated). */
export function requestPrincipal(host: object): Principal | undefined {
  return readAuthState(host)?.principal
}

/** The outcome recorded on `host`, or undefined when `authenticate()` never ran for it. */
export function outcomeOf(host: object): AuthOutcome | undefined {
  const state = readAuthState(host)
  if (state === undefined) return undefined
  const { principal, error } = state
  return Object.freeze({
    result:
      error !== undefined ? 'rejected' : principal === undefined ? 'anonymous' : 'authenticated',
    principal,
    reason: error?.reason,
    status: error?.status,
  })
}

/**
 * The verified caller of the request on `host` while its response is still open; undefined for
 * an anonymous request, and once the response has finished or its connection closed
 * (work that outlives a request does not act as its user).
 */
export function activePrincipal(host: object): Principal | undefined {
  const state = readAuthState(host)
  if (state === undefined) return undefined
  return state.response !== undefined && responseEnded(state.response) ? undefined : state.principal
}

/** Anything thrown on the auth path, as an AuthError: unknown failures fail closed as 401. */
export function asAuthError(err: unknown, realm?: string): AuthError {
  if (isAuthError(err)) return err
  return new AuthError('verification_failed', { cause: err, realm })
}

/**
 * Evaluates a guard for the request on `host`. Returns the AuthError to answer with (also
 * recorded on the state), or undefined to continue. A host with no state means `authenticate()`
 * never ran: the guard fails closed.
 */
export function checkGuard(guard: Guard, host: object): AuthError | undefined {
  const state = readAuthState(host)
  try {
    runGuard(guard, state)
    return undefined
  } catch (err) {
    const refusal = asAuthError(err, state?.realm)
    const error = state?.dpop === undefined ? refusal : refusal.withDpop(state.dpop)
    if (state !== undefined) state.error = error
    else attachAuthState(host, { principal: undefined, realm: DEFAULT_REALM, respond: true, error })
    return error
  }
}
