/**
 * Type tests of @svcauth/express's public API: the middleware and guards are Express handlers,
 * and `req.auth`, `req.audit` and `req.outbound` are typed on every Request once the package is
 * imported (its one `declare global` place per field).
 */
import type { ServiceClient, OutboundCalls } from '@svcauth/client'
import type { Authenticator } from '@svcauth/core'
import type { AuthError } from '@svcauth/express'
import {
  auditLogger,
  authenticate,
  authOutcome,
  currentAuthContext,
  isAuthError,
  outbound,
  rawToken,
  requireActor,
  requireAnyScope,
  requireClaim,
  requireScopes,
  type AuditDetails,
  type AuditLoggerMiddleware,
  type AuditLoggerOptions,
  type AuthenticateMiddleware,
  type AuthenticateOptions,
  type AuthErrorCode,
  type AuthOutcome,
  type DpopOptions,
  type MtlsOptions,
  type Principal,
} from '@svcauth/express'
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express'
import type { Logger } from 'pino'
import { expectTypeOf, test } from 'vitest'

test('authenticate(options) is a RequestHandler with its authenticator', () => {
  expectTypeOf(authenticate).parameter(0).toEqualTypeOf<AuthenticateOptions>()
  expectTypeOf(authenticate).returns.toEqualTypeOf<AuthenticateMiddleware>()
  expectTypeOf<AuthenticateMiddleware>().toExtend<RequestHandler>()
  expectTypeOf<AuthenticateMiddleware['authenticator']>().toEqualTypeOf<Authenticator>()
  expectTypeOf<AuthenticateOptions['respond']>().toEqualTypeOf<boolean | undefined>()
  expectTypeOf(authenticate).toBeCallableWith({
    issuer: 'https://hydra.example.org/',
    audience: 'smd',
    jwksUri: 'https://hydra.example.org/.well-known/jwks.json',
    optional: true,
    respond: false,
  })
  const app = express()
  app.use(authenticate({ issuer: 'https://hydra.example.org/', audience: 'smd' }))
})

test('dpop, publicOrigin and mtls are authenticate() options; the Principal says what a token is bound to', () => {
  expectTypeOf<AuthenticateOptions['dpop']>().toEqualTypeOf<boolean | DpopOptions | undefined>()
  expectTypeOf<AuthenticateOptions['publicOrigin']>().toEqualTypeOf<string | undefined>()
  expectTypeOf<AuthenticateOptions['mtls']>().toEqualTypeOf<boolean | MtlsOptions | undefined>()
  expectTypeOf<Principal['confirmation']>().toEqualTypeOf<
    { readonly jkt?: string; readonly x5tS256?: string } | undefined
  >()
})

test('req.auth is the Principal or undefined; req.audit and req.outbound are typed', () => {
  expectTypeOf<Request['auth']>().toEqualTypeOf<Principal | undefined>()
  expectTypeOf<Request['audit']>().toEqualTypeOf<
    ((event: string, details?: AuditDetails) => void) | undefined
  >()
  expectTypeOf<Request['outbound']>().toEqualTypeOf<OutboundCalls | undefined>()
  express().get('/State/Components', requireScopes('smd.read'), (req, res) => {
    expectTypeOf(req.auth?.actorId).toEqualTypeOf<string | undefined>()
    res.json({ caller: req.auth?.actorId })
  })
})

test('guards, outbound and the audit logger are Express middleware', () => {
  expectTypeOf(requireScopes).toBeCallableWith('smd.read', 'smd.write')
  expectTypeOf(requireScopes).returns.toEqualTypeOf<RequestHandler>()
  expectTypeOf(requireAnyScope).returns.toEqualTypeOf<RequestHandler>()
  expectTypeOf(requireActor).toBeCallableWith('user')
  expectTypeOf(requireActor).returns.toEqualTypeOf<RequestHandler>()
  expectTypeOf(requireClaim).toBeCallableWith('role', (role: unknown) => role === 'operator')
  expectTypeOf(requireClaim).returns.toEqualTypeOf<RequestHandler>()
  expectTypeOf(outbound).parameter(0).toEqualTypeOf<ServiceClient>()
  expectTypeOf(outbound).returns.toEqualTypeOf<RequestHandler>()
  expectTypeOf(auditLogger).parameter(0).toEqualTypeOf<AuditLoggerOptions | undefined>()
  expectTypeOf(auditLogger).returns.toEqualTypeOf<AuditLoggerMiddleware>()
  expectTypeOf<AuditLoggerMiddleware>().toExtend<RequestHandler>()
  expectTypeOf<AuditLoggerMiddleware['logger']>().toEqualTypeOf<Logger>()
  expectTypeOf(authOutcome).parameter(0).toEqualTypeOf<Request>()
  expectTypeOf(authOutcome).returns.toEqualTypeOf<AuthOutcome | undefined>()
})

test('errors handed to next(err) carry code, status and headers', () => {
  const handler: ErrorRequestHandler = (err: unknown, _req, res, next) => {
    if (!isAuthError(err)) {
      next(err)
      return
    }
    expectTypeOf(err).toEqualTypeOf<AuthError>()
    expectTypeOf(err.code).toEqualTypeOf<AuthErrorCode>()
    expectTypeOf(err.status).toEqualTypeOf<number>()
    res.status(err.status).set(err.headers).json({ error: err.code })
  }
  expectTypeOf(handler).toExtend<ErrorRequestHandler>()
  expectTypeOf(rawToken).returns.toEqualTypeOf<string | undefined>()
  expectTypeOf(currentAuthContext).returns.toEqualTypeOf<
    { readonly principal: Principal | undefined } | undefined
  >()
})
