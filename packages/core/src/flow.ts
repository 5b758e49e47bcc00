/**
 * The request flow both adapters run, written once: build the request view, take the synchronous
 * verified-cache fast path or else authenticate, record the outcome on the Node request
 * (`attachAuthState`), then either continue inside the request scope (`enterRequest`, so the
 * outbound client and audit events see the caller) or refuse; and the same for a route guard.
 * An adapter passes a constant set of framework callbacks ({@link FrameworkBindings}), so its own
 * files are translation only (graphql-http's shape: a neutral core, one thin file per framework).
 *
 * The cache-hit path stays synchronous and allocates what it did in each adapter before: the
 * request view, the state record and the request scope; no promise, no closure.
 */
import {
  asAuthError,
  attachAuthState,
  checkGuard,
  readAuthState,
  type AdapterOptions,
} from './adapter.js'
import type { RequestLike } from './bearer.js'
import { enterRequest, type ResponseLike } from './context.js'
import type { HeaderSink } from './dpop-request.js'
import type { AuthError } from './errors.js'
import type { Guard } from './guards.js'
import type { Principal } from './principal.js'
import { createAuthenticator, type Authenticator } from './verifier.js'

/**
 * What an adapter tells the flow about its framework. `C` is what its middleware gets first
 * (Express `req`, Koa `ctx`), `S` the Node response, `N` its `next`.
 */
export interface FrameworkBindings<
  C,
  S extends ResponseLike & HeaderSink,
  N extends () => unknown,
> {
  /** The request as the core reads it (`headers`, `rawHeaders`, `url`, parsed `body`). */
  readonly view: (ctx: C) => RequestLike
  /** The Node request that holds the auth state: Express `req`, Koa `ctx.req`. */
  readonly host: (ctx: C) => object
  /** Shows the verified caller to routes: `req.auth`, `ctx.state.auth`. */
  readonly expose: (ctx: C, principal: Principal | undefined) => void
  /** Answers a rejection with the core's JSON response (`respond: true`). */
  readonly answer: (ctx: C, res: S, next: N, error: AuthError) => void
  /** Hands a rejection to the framework's error handling (`respond: false`): `next(err)`, a throw. */
  readonly handOff: (ctx: C, res: S, next: N, error: AuthError) => void
}

/** What the slow path's promise settles with: what `next` settled with, or undefined. */
export type Settled<N extends () => unknown> = Awaited<ReturnType<N>> | undefined

/** One `authenticate()` middleware: its authenticator, and the flow to run per request. */
export interface AuthenticateFlow<C, S extends ResponseLike & HeaderSink, N extends () => unknown> {
  readonly authenticator: Authenticator
  /**
   * Runs the flow: what `next` returns on the fast path; on the slow one a promise that settles
   * with what `next` settles with (Koa awaits downstream through it), or undefined once refused.
   */
  readonly run: (ctx: C, res: S, next: N) => ReturnType<N> | Promise<Settled<N>>
}

/**
 * Builds the authenticator and the per-request flow of an adapter's `authenticate()`; `respond`
 * is resolved here, once.
 *
 * @example
 * ```ts
 * const flow = authenticateFlow(options, EXPRESS)
 * const middleware = function authenticate(req: Request, res: Response, next: NextFunction): void {
 *   void flow.run(req, res, next)
 * }
 * ```
 */
export function authenticateFlow<C, S extends ResponseLike & HeaderSink, N extends () => unknown>(
  options: AdapterOptions,
  bindings: FrameworkBindings<C, S, N>,
): AuthenticateFlow<C, S, N> {
  const authenticator = createAuthenticator(options)
  const respond = options.respond !== false
  const { realm } = authenticator
  const { view, host, expose } = bindings
  const refuse = respond ? bindings.answer : bindings.handOff
  const challenges = authenticator.options.dpop?.challenges

  const accept = (ctx: C, res: S, next: N, principal: Principal | undefined): ReturnType<N> => {
    // Where DPoP is on, a guard's refusal challenges as authentication would have.
    const dpop =
      challenges === undefined
        ? undefined
        : principal === undefined
          ? challenges.none
          : principal.confirmation?.jkt === undefined
            ? challenges.bearer
            : challenges.dpop
    attachAuthState(host(ctx), { principal, realm, respond, response: res, dpop })
    expose(ctx, principal)
    return enterRequest(principal, res, next) as ReturnType<N>
  }

  const verify = async (ctx: C, res: S, next: N, request: RequestLike): Promise<Settled<N>> => {
    let principal: Principal | undefined
    try {
      principal = await authenticator.authenticate(request, res)
    } catch (err) {
      const error = asAuthError(err, realm)
      attachAuthState(host(ctx), { principal: undefined, realm, respond, error })
      refuse(ctx, res, next, error)
      return undefined
    }
    // Returned, not awaited: the promise adopts what `next` returns when that is a promise.
    return accept(ctx, res, next, principal) as Settled<N>
  }

  return Object.freeze({
    authenticator,
    run(ctx: C, res: S, next: N): ReturnType<N> | Promise<Settled<N>> {
      const request = view(ctx)
      // A verified-cache hit needs no promise: the common case of a service reusing its token.
      const cached = authenticator.authenticateCached(request)
      if (cached !== undefined) return accept(ctx, res, next, cached)
      return verify(ctx, res, next, request)
    },
  })
}

/**
 * The per-request flow of a guard middleware: continue when the guard passes, else refuse the way
 * the request's `authenticate()` was told to (JSON unless `respond: false`; a guard mounted where
 * no `authenticate()` ran answers with JSON). Returns what `next` returns, or undefined when the
 * request was refused.
 *
 * @example
 * ```ts
 * const run = guardFlow(core.requireScopes('smd.read'), EXPRESS)
 * ```
 */
export function guardFlow<C, S extends ResponseLike & HeaderSink, N extends () => unknown>(
  guard: Guard,
  bindings: FrameworkBindings<C, S, N>,
): (ctx: C, res: S, next: N) => ReturnType<N> | undefined {
  const { host, answer, handOff } = bindings
  return function guardRequest(ctx: C, res: S, next: N): ReturnType<N> | undefined {
    const node = host(ctx)
    const error = checkGuard(guard, node)
    if (error === undefined) return next() as ReturnType<N>
    const refuse = (readAuthState(node)?.respond ?? true) ? answer : handOff
    refuse(ctx, res, next, error)
    return undefined
  }
}
