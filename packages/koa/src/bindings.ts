/**
 * What the core's request flow needs to know about Koa (`FrameworkBindings`): the request view,
 * where the state lives (`ctx.req`), `ctx.state.auth`, and how to answer an AuthError: the core's
 * JSON response by default, or a thrown error for the app's own error handling (it carries
 * `status`, `expose` and `headers`, which Koa's default handler applies).
 */
import type { ServerResponse } from 'node:http'
import { errorResponse } from '@svcauth/core'
import type { FrameworkBindings } from '@svcauth/core/internal'
import type { Next, ParameterizedContext } from 'koa'
import type { AuthState } from './state.js'

type KoaBindings = FrameworkBindings<ParameterizedContext<AuthState>, ServerResponse, Next>

export const KOA: KoaBindings = Object.freeze<KoaBindings>({
  view: (ctx) => ({
    headers: ctx.req.headers,
    rawHeaders: ctx.req.rawHeaders,
    url: ctx.originalUrl,
    body: (ctx.request as { body?: unknown }).body,
  }),
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
