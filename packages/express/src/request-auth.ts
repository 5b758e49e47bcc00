/**
 * `req.auth` without adding a property to every request (issue 17). Express gives each request
 * object its own hidden class (it swaps the prototype of every request onto `app.request`), so in
 * V8 every property added to a `req` builds a new map and copies ~40 property descriptors: several
 * µs per request on the benchmark machine, most of svcauth's cost on a cached token. Instead,
 * `auth` is an accessor on Express's own request prototype (`express.request`, which every app's
 * `app.request` inherits from: Express's documented extension point), reading the caller recorded
 * by `authenticate()` (the core's request state). It is installed once per copy of Express, the
 * first time `authenticate()` sees one of its requests.
 *
 * Assigning `req.auth` still works (it makes an own property, as before), and a request that
 * already has its own `auth` (another middleware set one) gets svcauth's principal assigned over
 * it, as before. A request that is not Express's (its prototype chain does not lead from an
 * Express prototype to Node's IncomingMessage) gets a plain property.
 */
import { IncomingMessage } from 'node:http'
import type { Principal } from '@svcauth/core'
import { requestPrincipal } from '@svcauth/core/internal'
import type { Request } from 'express'

/** Express request prototypes (`express.request` of each copy) that carry the accessor. */
const installed = new WeakSet<object>()
/** The prototype seen last (an app's `app.request`): most requests skip the walk. */
let lastProto: object | null = null

const descriptor: PropertyDescriptor = Object.freeze({
  configurable: true,
  enumerable: true,
  get(this: object): Principal | undefined {
    return requestPrincipal(this)
  },
  set(this: object, value: unknown): void {
    Object.defineProperty(this, 'auth', {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    })
  },
})

/** Express's base request prototype above `req`, or undefined when `req` is not Express's. */
function expressRequestPrototype(req: object): object | undefined {
  for (
    let proto = Object.getPrototypeOf(req) as object | null;
    proto !== null && proto !== IncomingMessage.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    if (Object.getPrototypeOf(proto) === IncomingMessage.prototype) return proto
  }
  return undefined
}

/** True when `req.auth` already reads the state through the accessor. */
function hasAccessor(req: Request): boolean {
  const proto = Object.getPrototypeOf(req) as object | null
  if (proto !== null && proto === lastProto) return true
  const base = expressRequestPrototype(req)
  if (base === undefined) return false
  if (!installed.has(base)) {
    // Someone else's `auth` on Express's prototype stays theirs; requests then get an own property.
    if (Object.prototype.hasOwnProperty.call(base, 'auth')) return false
    Object.defineProperty(base, 'auth', descriptor)
    installed.add(base)
  }
  lastProto = proto
  return true
}

/** Shows the verified caller as `req.auth`; the core's request state must already be recorded. */
export function exposeAuth(req: Request, principal: Principal | undefined): void {
  if (hasAccessor(req) && !Object.prototype.hasOwnProperty.call(req, 'auth')) return
  req.auth = principal
}
