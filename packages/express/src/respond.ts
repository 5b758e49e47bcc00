/**
 * Answers an AuthError the Express way: the JSON body and headers from the core by default, or
 * `next(err)` so the app's error handler decides (the error carries `status` and `headers`).
 */
import { AuthError, errorResponse, isAuthError } from '@svcauth/core'
import type { NextFunction, Response } from 'express'

export function fail(err: unknown, res: Response, next: NextFunction, respond: boolean): void {
  const authError = isAuthError(err)
    ? err
    : new AuthError('invalid_token', 'verification_failed', { cause: err })
  if (!respond) {
    next(authError)
    return
  }
  const { status, headers, body } = errorResponse(authError)
  res.status(status).set(headers).json(body)
}
