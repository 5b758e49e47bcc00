/**
 * Type tests of @svcauth/audit's public API: the pino-http logger with actor fields, business
 * audit events, and the masking helpers, as README documents them.
 */
import type { Principal } from '@svcauth/core'
import {
  auditEvent,
  auditRecord,
  createAuditLogger,
  REDACTED,
  scrubUrl,
  SENSITIVE_HEADERS,
  SENSITIVE_PARAMS,
  type AuditDetails,
  type AuditLogger,
  type AuditLoggerOptions,
  type AuditRecord,
  type ServiceIdentity,
} from '@svcauth/audit'
import type { IncomingMessage } from 'node:http'
import pino, { type Logger } from 'pino'
import { expectTypeOf, test } from 'vitest'

test('createAuditLogger(options) gives pino-http middleware, its logger and event writers', () => {
  expectTypeOf(createAuditLogger).parameter(0).toEqualTypeOf<AuditLoggerOptions | undefined>()
  expectTypeOf(createAuditLogger).returns.toEqualTypeOf<AuditLogger>()
  expectTypeOf(createAuditLogger).toBeCallableWith()
  expectTypeOf(createAuditLogger).toBeCallableWith({
    logger: pino(),
    service: { clientId: 'bss' },
    redactHeaders: ['x-api-key'],
    redactQueryParams: ['sig'],
  })
  expectTypeOf<AuditLogger['logger']>().toEqualTypeOf<Logger>()
  expectTypeOf<AuditLogger['event']>().parameters.toEqualTypeOf<
    [req: IncomingMessage, event: string, details?: AuditDetails]
  >()
  expectTypeOf<AuditLogger['eventAs']>()
    .parameter(0)
    .toEqualTypeOf<Principal | ServiceIdentity | undefined>()
})

test('auditEvent writes one line for a worker outside any request', () => {
  expectTypeOf(auditEvent).toBeCallableWith(pino(), 'invoice_paid', { target: 'user-123' })
  expectTypeOf(auditEvent).toBeCallableWith(
    pino(),
    'invoice_paid',
    { target: 'user-123' },
    { clientId: 'billing-worker' },
  )
  expectTypeOf(auditEvent).returns.toBeVoid()
  expectTypeOf<ServiceIdentity>().toExtend<{ clientId: string }>()
  expectTypeOf<{ target: string; amount: number }>().toExtend<AuditDetails>()
})

test('masking helpers and the actor record', () => {
  expectTypeOf(scrubUrl).toBeCallableWith('/invoices?access_token=x')
  expectTypeOf(scrubUrl).returns.toEqualTypeOf<string>()
  expectTypeOf(SENSITIVE_HEADERS).toEqualTypeOf<readonly string[]>()
  expectTypeOf(SENSITIVE_PARAMS).toEqualTypeOf<readonly string[]>()
  expectTypeOf(REDACTED).toExtend<string>()
  expectTypeOf(auditRecord).parameter(0).toEqualTypeOf<Principal | undefined>()
  expectTypeOf(auditRecord).returns.toEqualTypeOf<AuditRecord>()
  expectTypeOf<AuditRecord['actor_type']>().toEqualTypeOf<'user' | 'client' | 'anonymous'>()
})
