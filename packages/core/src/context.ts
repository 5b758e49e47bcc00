/**
 * The request context: the adapters run the rest of each request inside an AsyncLocalStorage
 * scope holding the Principal, so code far from the request object (the outbound client, audit
 * events) can find who is calling.
 *
 * **On when something reads it (issue 17).** On Node 20 and 22, AsyncLocalStorage propagates
 * through async_hooks: once a scope is entered, every promise the process creates runs an init
 * hook, which costs more than the rest of a cached-token request. So requests enter the scope only
 * once the context is on: turned on by whatever reads it, when that is built (a service client
 * with a `'forward'` or `'exchange'` target, the audit logger), by the first
 * `currentAuthContext()` call, or by `enableRequestContext()`. Where AsyncLocalStorage needs no
 * hooks (Node 24's AsyncContextFrame) it is on from the start. Turned on after requests were
 * served without it, it warns once (`SVCAUTH_REQUEST_CONTEXT_LATE`): the requests in flight then
 * have no caller in the context. Calls bound to a request explicitly (`req.outbound`,
 * `forPrincipal`) never need it.
 *
 * A request's scope closes when its response has finished or its connection closed. Work that
 * was started inside the request and runs later (a timer, a poller started lazily, a promise left
 * running) inherits the scope, but once it is closed `currentAuthContext()` answers `undefined`:
 * that work acts as the service itself, never as the user who happened to trigger it (issue 14).
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { Principal } from './principal.js'

/** What the context holds for one request. */
export interface AuthContext {
  /** The verified caller, or undefined for an anonymous request (optional authentication). */
  readonly principal: Principal | undefined
}

/**
 * The response whose end closes a request's scope: Node's `ServerResponse` (Express's `res`,
 * Koa's `ctx.res`) fits.
 */
export interface ResponseLike {
  /** True once the response has been handed to the connection in full (`'finish'`). */
  readonly writableFinished: boolean
  /** True once the response or its connection was torn down (`'close'`, a client abort). */
  readonly destroyed: boolean
}

/** True once `response` can no longer be part of its request: finished, or its connection gone. */
export function responseEnded(response: ResponseLike): boolean {
  return response.writableFinished || response.destroyed
}

/**
 * One scope of the store. The response is read when the context is asked for, not watched with
 * listeners, so entering a request costs one object and nothing at its end.
 */
class Scope implements AuthContext {
  readonly principal: Principal | undefined
  readonly #response: ResponseLike | undefined

  constructor(principal: Principal | undefined, response: ResponseLike | undefined) {
    this.principal = principal
    this.#response = response
    Object.freeze(this)
  }

  get open(): boolean {
    return this.#response === undefined || !responseEnded(this.#response)
  }
}

/** The process-wide context: one store and one switch even if the package is loaded twice. */
interface SharedContext {
  readonly storage: AsyncLocalStorage<Scope>
  /** Requests enter the store only while this is true. */
  on: boolean
  /** An adapter has run a request while the context was off. */
  servedWithout: boolean
}

/**
 * True where AsyncLocalStorage is built on async_hooks (Node 20 and 22 by default): its
 * `_propagate` is the init hook every new promise would run. Node 24's AsyncContextFrame version
 * has none and costs a frame swap per scope.
 */
const HOOKED =
  typeof (AsyncLocalStorage.prototype as { _propagate?: unknown })._propagate === 'function'

const KEY = Symbol.for('svcauth.authContext.v3')
const globalStore = globalThis as unknown as Record<symbol, SharedContext | undefined>
const shared: SharedContext = (globalStore[KEY] ??= {
  storage: new AsyncLocalStorage(),
  on: !HOOKED,
  servedWithout: false,
})
const { storage } = shared

/**
 * Turns the request context on for every request from now on, so `currentAuthContext()` (and
 * through it the outbound client and audit events) sees the caller anywhere in a request. The
 * outbound client with a `'forward'` or `'exchange'` target and the audit logger turn it on when
 * built; call it at start-up when your own code reads `currentAuthContext()` during requests. On
 * Node 20 and 22 it costs every promise of the process an AsyncLocalStorage hook.
 *
 * @example
 * ```ts
 * import { enableRequestContext } from '@svcauth/core'
 * enableRequestContext() // before the server starts listening
 * ```
 */
export function enableRequestContext(): void {
  if (shared.on) return
  shared.on = true
  if (shared.servedWithout) {
    process.emitWarning(
      'svcauth: the request context was turned on after requests had been served without it; requests in flight at this moment have no caller in it. Turn it on at start-up: build service clients and audit loggers before serving, or call enableRequestContext().',
      { code: 'SVCAUTH_REQUEST_CONTEXT_LATE' },
    )
  }
}

/** True once requests run inside the context (see {@link enableRequestContext}). */
export function requestContextEnabled(): boolean {
  return shared.on
}

/**
 * Runs `fn` with `principal` as the current caller, with no end: for work done explicitly on
 * someone's behalf (the outbound client's `forPrincipal`, tests).
 *
 * @example
 * ```ts
 * runWithPrincipal(principal, () => svc.fetch('http://smd:27779/hsm/v2/State/Components'))
 * ```
 */
export function runWithPrincipal<T>(principal: Principal | undefined, fn: () => T): T {
  return storage.run(new Scope(principal, undefined), fn)
}

/**
 * Runs the rest of a request (`fn`) with `principal` as the current caller until `response` has
 * finished or its connection closed; what runs after that sees no caller.
 *
 * @example
 * ```ts
 * runWithRequest(principal, res, next)
 * ```
 */
export function runWithRequest<T>(
  principal: Principal | undefined,
  response: ResponseLike,
  fn: () => T,
): T {
  return storage.run(new Scope(principal, response), fn)
}

/**
 * What the adapters call for an accepted request: {@link runWithRequest} while the context is on,
 * else just `fn` (nothing reads the context, and entering it would cost every promise a hook).
 */
export function enterRequest<T>(
  principal: Principal | undefined,
  response: ResponseLike,
  fn: () => T,
): T {
  if (shared.on) return storage.run(new Scope(principal, response), fn)
  if (!shared.servedWithout) shared.servedWithout = true
  return fn()
}

/**
 * The current request's auth context, or undefined outside any authenticated request, including
 * in work that outlives the request it was started in. The first call turns the request context
 * on (see {@link enableRequestContext}); call it, or `enableRequestContext()`, at start-up.
 *
 * @example
 * ```ts
 * const caller = currentAuthContext()?.principal
 * ```
 */
export function currentAuthContext(): AuthContext | undefined {
  if (!shared.on) enableRequestContext()
  const scope = storage.getStore()
  return scope !== undefined && scope.open ? scope : undefined
}
