/**
 * Answers an AuthError the Express way: the core's JSON response by default, or `next(err)` so the
 * app's error handler decides (the error carries `status`, `code`, `reason` and `headers`).
 */
import { errorResponse, type AuthError } from '@svcauth/core'
import type { NextFunction, Response } from 'express'

export function answer(
  error: AuthError,
  res: Response,
  next: NextFunction,
  respond: boolean,
): void {
  if (!respond) {
    next(error)
    return
  }
  const { status, headers, body } = errorResponse(error)
  res.status(status).set(headers).json(body)
}
