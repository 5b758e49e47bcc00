/**
 * The request context: the adapters run the rest of each request inside an AsyncLocalStorage
 * scope holding the Principal, so code far from the request object (the outbound client, audit
 * events) can find who is calling.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { Principal } from './principal.js'

/** What the context holds for one request. */
export interface AuthContext {
  /** The verified caller, or undefined for an anonymous request (optional authentication). */
  readonly principal: Principal | undefined
}

// One store per process even if the package is loaded twice (e.g. two copies in node_modules).
const KEY = Symbol.for('svcauth.authContextStorage')
const globalStore = globalThis as unknown as Record<
  symbol,
  AsyncLocalStorage<AuthContext> | undefined
>
const storage: AsyncLocalStorage<AuthContext> = (globalStore[KEY] ??= new AsyncLocalStorage())

/**
 * Runs `fn` with `principal` as the current caller.
 *
 * @example
 * ```ts
 * runWithPrincipal(principal, () => next())
 * ```
 */
export function runWithPrincipal<T>(principal: Principal | undefined, fn: () => T): T {
  return storage.run(Object.freeze({ principal }), fn)
}

/**
 * The current request's auth context, or undefined outside any authenticated request.
 *
 * @example
 * ```ts
 * const caller = currentAuthContext()?.principal
 * ```
 */
export function currentAuthContext(): AuthContext | undefined {
  return storage.getStore()
}
