/**
 * The request context: the adapters run the rest of each request inside an AsyncLocalStorage
 * scope holding the Principal, so code far from the request object (the outbound client, audit
 * events) can find who is calling.
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

// One store per process even if the package is loaded twice (e.g. two copies in node_modules).
const KEY = Symbol.for('svcauth.authContextStorage.v2')
const globalStore = globalThis as unknown as Record<symbol, AsyncLocalStorage<Scope> | undefined>
const storage: AsyncLocalStorage<Scope> = (globalStore[KEY] ??= new AsyncLocalStorage())

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
 * finished or its connection closed; what runs after that sees no caller. The adapters call it.
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
 * The current request's auth context, or undefined outside any authenticated request, including
 * in work that outlives the request it was started in.
 *
 * @example
 * ```ts
 * const caller = currentAuthContext()?.principal
 * ```
 */
export function currentAuthContext(): AuthContext | undefined {
  const scope = storage.getStore()
  return scope !== undefined && scope.open ? scope : undefined
}
