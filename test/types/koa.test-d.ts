/**
 * Type tests of @svcauth/koa's public API: the middleware and guards are Koa middleware over
 * `AuthState`, so `ctx.state.auth` is typed, and `ctx.audit` / `ctx.outbound` come with
 * `AuditContext` / `OutboundContext`.
 */
import type { OutboundCalls, ServiceClient } from '@svcauth/client'
import type { Authenticator } from '@svcauth/core'
import type { AuthError } from '@svcauth/koa'
import {
  auditLogger,
  authenticate,
  authOutcome,
  isAuthError,
  outbound,
  requireActor,
  requireAnyScope,
  requireClaim,
  requireScopes,
  type AuditContext,
  type AuditDetails,
  type AuditLoggerMiddleware,
  type AuditLoggerOptions,
  type AuthenticateMiddleware,
  type AuthenticateOptions,
  type AuthErrorCode,
  type AuthOutcome,
  type AuthState,
  type OutboundContext,
  type DpopOptions,
  type MtlsOptions,
  type Principal,
} from '@svcauth/koa'
import Router from '@koa/router'
import Koa, { type Context, type Middleware, type ParameterizedContext } from 'koa'
import type { Logger } from 'pino'
import { expectTypeOf, test } from 'vitest'

test('authenticate(options) is Middleware<AuthState> with its authenticator', () => {
  expectTypeOf(authenticate).parameter(0).toEqualTypeOf<AuthenticateOptions>()
  expectTypeOf(authenticate).returns.toEqualTypeOf<AuthenticateMiddleware>()
  expectTypeOf<AuthenticateMiddleware>().toExtend<Middleware<AuthState>>()
  expectTypeOf<AuthenticateMiddleware['authenticator']>().toEqualTypeOf<Authenticator>()
  const app = new Koa<AuthState>()
  app.use(authenticate({ issuer: 'https://hydra.example.org/', audience: 'bss', respond: false }))
})

test('dpop, publicOrigin and mtls are authenticate() options; the Principal says what a token is bound to', () => {
  expectTypeOf<AuthenticateOptions['dpop']>().toEqualTypeOf<boolean | DpopOptions | undefined>()
  expectTypeOf<AuthenticateOptions['publicOrigin']>().toEqualTypeOf<string | undefined>()
  expectTypeOf<AuthenticateOptions['mtls']>().toEqualTypeOf<boolean | MtlsOptions | undefined>()
  expectTypeOf<Principal['confirmation']>().toEqualTypeOf<
    { readonly jkt?: string; readonly x5tS256?: string } | undefined
  >()
})

test('ctx.state.auth is the Principal or undefined', () => {
  expectTypeOf<AuthState['auth']>().toEqualTypeOf<Principal | undefined>()
  expectTypeOf<ParameterizedContext<AuthState>['state']['auth']>().toEqualTypeOf<
    Principal | undefined
  >()
  const router = new Router<AuthState>()
  router.get('/boot/v1/bootparameters', requireScopes('bss.read'), (ctx) => {
    expectTypeOf(ctx.state.auth).toEqualTypeOf<Principal | undefined>()
    ctx.body = { caller: ctx.state.auth?.actorId }
  })
})

test('guards, outbound and the audit logger are Koa middleware', () => {
  expectTypeOf(requireScopes).toBeCallableWith('bss.read', ['bss.write'])
  expectTypeOf(requireScopes).returns.toEqualTypeOf<Middleware<AuthState>>()
  expectTypeOf(requireAnyScope).returns.toEqualTypeOf<Middleware<AuthState>>()
  expectTypeOf(requireActor).toBeCallableWith('client')
  expectTypeOf(requireActor).returns.toEqualTypeOf<Middleware<AuthState>>()
  expectTypeOf(requireClaim).toBeCallableWith('role', (role: unknown) => role === 'operator')
  expectTypeOf(requireClaim).returns.toEqualTypeOf<Middleware<AuthState>>()
  expectTypeOf(outbound).parameter(0).toEqualTypeOf<ServiceClient>()
  expectTypeOf(outbound).returns.toEqualTypeOf<Middleware<AuthState, OutboundContext>>()
  expectTypeOf<OutboundContext['outbound']>().toEqualTypeOf<OutboundCalls>()
  expectTypeOf(auditLogger).parameter(0).toEqualTypeOf<AuditLoggerOptions | undefined>()
  expectTypeOf(auditLogger).returns.toEqualTypeOf<AuditLoggerMiddleware>()
  expectTypeOf<AuditLoggerMiddleware['logger']>().toEqualTypeOf<Logger>()
  expectTypeOf<AuditContext['audit']>().toEqualTypeOf<
    (event: string, details?: AuditDetails) => void
  >()
  expectTypeOf(authOutcome).parameter(0).toEqualTypeOf<Context>()
  expectTypeOf(authOutcome).returns.toEqualTypeOf<AuthOutcome | undefined>()
})

test('errors thrown with respond: false carry code, status and headers', () => {
  const err: unknown = new Error('x')
  if (isAuthError(err)) {
    expectTypeOf(err).toEqualTypeOf<AuthError>()
    expectTypeOf(err.code).toEqualTypeOf<AuthErrorCode>()
    expectTypeOf(err.status).toEqualTypeOf<number>()
    expectTypeOf(err.headers).toExtend<Readonly<Record<string, string>>>()
  }
})
