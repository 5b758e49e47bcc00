/**
 * What the core's request flow needs to know about Koa (`FrameworkBindings`): the request view,
 * where the state lives (`ctx.req`), `ctx.state.auth`, and how to answer an AuthError: the core's
 * JSON response by default, or a thrown error for the app's own error handling (it carries
 * `status`, `expose` and `headers`, which Koa's default handler applies).
 */
import type { ServerResponse } from 'node:http'
import { errorResponse, type PeerSocket, type RequestLike } from '@svcauth/core'
import type { FrameworkBindings } from '@svcauth/core/internal'
import type { Next, ParameterizedContext } from 'koa'
import type { AuthState } from './state.js'

type KoaBindings = FrameworkBindings<ParameterizedContext<AuthState>, ServerResponse, Next>

/**
 * The request as the core reads it. `method` and `origin` are read only when a DPoP proof is
 * checked (its `htm` and `htu`), so a Bearer request pays nothing for them. `origin` is Koa's
 * `ctx.protocol` and `ctx.host`, which honour `X-Forwarded-Proto` and `X-Forwarded-Host`
 * only when `app.proxy` is set.
 */
class KoaView implements RequestLike {
  readonly headers: ParameterizedContext['req']['headers']
  readonly rawHeaders: readonly string[]
  readonly url: string
  readonly body: unknown
  readonly #ctx: ParameterizedContext<AuthState>

  constructor(ctx: ParameterizedContext<AuthState>) {
    this.headers = ctx.req.headers
    this.rawHeaders = ctx.req.rawHeaders
    this.url = ctx.originalUrl
    this.body = (ctx.request as { body?: unknown }).body
    this.#ctx = ctx
  }

  get method(): string {
    return this.#ctx.req.method ?? 'GET'
  }

  /** The connection: its peer certificate (mutual TLS) and address (trusted proxies). */
  get socket(): PeerSocket {
    return this.#ctx.req.socket
  }

  get origin(): string | undefined {
    const { host, protocol } = this.#ctx
    return host === '' ? undefined : `${protocol}://${host}`
  }
}

export const KOA: KoaBindings = Object.freeze<KoaBindings>({
  view: (ctx) => new KoaView(ctx),
  host: (ctx) => ctx.req,
  expose(ctx, principal): void {
    ctx.state.auth = principal
  },
  answer(ctx, _res, _next, error): void {
    const { status, headers, body } = errorResponse(error)
    ctx.status = status
    ctx.set(headers)
    ctx.body = body
  },
  handOff(_ctx, _res, _next, error): void {
    throw error
  },
})
