/**
 * Answers an AuthError the Koa way: the core's JSON response by default, or a thrown error for the
 * app's own error handling (it carries `status`, `expose` and `headers`, which Koa's default
 * handler applies).
 */
import { errorResponse, type AuthError } from '@svcauth/core'
import type { Context } from 'koa'

export function answer(ctx: Context, error: AuthError, respond: boolean): void {
  if (!respond) throw error
  const { status, headers, body } = errorResponse(error)
  ctx.status = status
  ctx.set(headers)
  ctx.body = body
}
