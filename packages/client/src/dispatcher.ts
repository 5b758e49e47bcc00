/**
 * Dispatcher assembly: the downstream calls go through an undici Agent (or the caller's
 * dispatcher) composed with the token interceptor, never through the global dispatcher. `fetch`
 * and `request` are bound to it; `forPrincipal` runs them inside a caller's context (until its
 * response has ended, when one is given: issue 14 R4); `close` closes the Agent it created.
 * `fetch` rejects with svcauth's own error when the interceptor failed (issue 16, item 4).
 */
import { runWithPrincipal } from '@svcauth/core'
import { runWithRequest } from '@svcauth/core/internal'
import { Agent, fetch as undiciFetch, request as undiciRequest, type Dispatcher } from 'undici'
import { isOutboundError } from './errors.js'
import type { ServiceClient } from './service-client.js'

/** The parts of the ServiceClient that are about dispatching. */
export type AssembledDispatcher = Pick<
  ServiceClient,
  'fetch' | 'request' | 'forPrincipal' | 'dispatcher' | 'close'
>

/**
 * Composes `interceptor` onto `given` (or a new Agent, owned and closed by `close`); `clear`
 * runs first on close (dropping cached tokens). `owned`: `given` is the client's own (its TLS
 * router) and is closed too.
 */
export function assembleDispatcher(
  interceptor: Dispatcher.DispatcherComposeInterceptor,
  given: Dispatcher | undefined,
  clear: () => void,
  owned = false,
): AssembledDispatcher {
  const base: Dispatcher = given ?? new Agent()
  const dispatcher = base.compose(interceptor)
  let closing: Promise<void> | undefined
  const fetch: ServiceClient['fetch'] = (input, init) =>
    undiciFetch(input, { ...init, dispatcher }).catch(unwrapOutbound)
  const request: ServiceClient['request'] = (url, opts) =>
    undiciRequest(url, { ...opts, dispatcher })
  return {
    fetch,
    request,
    forPrincipal: (principal, response) => {
      const run =
        response === undefined
          ? <T>(fn: () => T): T => runWithPrincipal(principal, fn)
          : <T>(fn: () => T): T => runWithRequest(principal, response, fn)
      return Object.freeze({
        fetch: (input, init) => run(() => fetch(input, init)),
        request: (url, opts) => run(() => request(url, opts)),
      })
    },
    dispatcher,
    close() {
      // Idempotent: a second close() (shutdown hooks, test teardown) resolves as the first did.
      closing ??= (async () => {
        clear()
        if (given === undefined || owned) await base.close()
      })()
      return closing
    },
  }
}

/**
 * undici's fetch turns every dispatcher failure into `TypeError: fetch failed` with the failure
 * as its `cause` (a "network error" of the Fetch standard, §4.1 main fetch). When that failure is
 * one of svcauth's (the token could not be had, a user token was refused), the caller gets it
 * directly, so that `catch (err) { if (isTokenEndpointError(err)) … }` works; any other failure
 * (a refused connection, an abort) stays as undici reports it. `request` needs nothing: it
 * rejects with the handler's error as it is.
 */
function unwrapOutbound(err: unknown): never {
  if (err instanceof TypeError && isOutboundError(err.cause)) throw err.cause
  throw err
}
