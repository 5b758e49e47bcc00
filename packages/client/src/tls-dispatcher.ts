/**
 * The dispatcher under the token interceptor when the client does mutual TLS (RFC 8705): each call
 * goes to the Agent of its origin's TLS configuration (tls-transport.ts), chosen at dispatch from
 * the current material, or to a plain Agent for an origin without one. It also answers what the
 * interceptor must know before it sends a certificate-bound token (§3): which certificate a
 * connection to an origin presents now, and whether a certificate was replaced by a renewal.
 * Both read the same material, in the same synchronous run as the dispatch that follows.
 */
import { Dispatcher, type Agent } from 'undici'
import { originParser } from './lib/dispatch-options.js'
import type { TlsTransport } from './tls-transport.js'

/** What the interceptor asks before it sends a certificate-bound token. */
export interface CertificateBindings {
  /** `x5t#S256` of the client certificate a connection to `origin` presents now, if any. */
  presented(origin: string): string | undefined
  /** The certificate `origin`'s connections present was once `thumbprint` (a renewal replaced it). */
  replaced(origin: string, thumbprint: string): boolean
}

export class TlsRouter extends Dispatcher implements CertificateBindings {
  readonly #routes: (origin: string) => TlsTransport | undefined
  readonly #plain: Agent
  readonly #history: (transport: TlsTransport, thumbprint: string) => boolean
  readonly #shutdown: (destroy: boolean) => Promise<void>
  readonly #originOf = originParser()

  /**
   * `routes` names an origin's transport (undefined: `plain`); `history` tells whether a
   * transport's certificate was once `thumbprint`; `shutdown` closes (or destroys) every Agent.
   */
  constructor(
    routes: (origin: string) => TlsTransport | undefined,
    plain: Agent,
    history: (transport: TlsTransport, thumbprint: string) => boolean,
    shutdown: (destroy: boolean) => Promise<void>,
  ) {
    super()
    this.#routes = routes
    this.#plain = plain
    this.#history = history
    this.#shutdown = shutdown
  }

  override dispatch(
    opts: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
  ): boolean {
    const origin = this.#originOf(opts.origin)
    const transport = origin === undefined ? undefined : this.#routes(origin)
    return (transport?.current().agent ?? this.#plain).dispatch(opts, handler)
  }

  presented(origin: string): string | undefined {
    return this.#routes(origin)?.current().certificate
  }

  replaced(origin: string, thumbprint: string): boolean {
    const transport = this.#routes(origin)
    return transport !== undefined && this.#history(transport, thumbprint)
  }

  override close(): Promise<void>
  override close(callback: () => void): void
  override close(callback?: () => void): Promise<void> | undefined {
    return settle(this.#shutdown(false), callback)
  }

  override destroy(err?: Error | null): Promise<void>
  override destroy(callback: () => void): void
  override destroy(err: Error | null, callback: () => void): void
  override destroy(
    first?: Error | null | (() => void),
    second?: () => void,
  ): Promise<void> | undefined {
    return settle(this.#shutdown(true), typeof first === 'function' ? first : second)
  }
}

/** undici's two styles: a promise, or a callback and nothing returned. */
function settle(
  done: Promise<void>,
  callback: (() => void) | undefined,
): Promise<void> | undefined {
  if (callback === undefined) return done
  void done.then(callback, callback)
  return undefined
}
