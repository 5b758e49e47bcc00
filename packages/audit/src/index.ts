/**
 * @svcauth/audit: pino-http with redaction on by default and actor fields on every request line,
 * plus business audit events. Every public export is listed here by name.
 */
export { auditHttpOptions, createAuditLogger } from './audit-logger.js'
export type { AuditHooks, AuditLogger, AuditLoggerOptions } from './audit-logger.js'
export { auditEvent } from './events.js'
export type { AuditDetails, EventSink, ServiceIdentity } from './events.js'
export { ErrorBudget, levelFor } from './levels.js'
export type { AuditLevel, LevelDecision } from './levels.js'
export {
  REDACTED,
  scrubHeaders,
  scrubQuery,
  scrubRules,
  scrubUrl,
  SENSITIVE_HEADERS,
  SENSITIVE_PARAMS,
} from './scrub.js'
export type { ScrubRules } from './scrub.js'
export { auditRecord } from '@svcauth/core'
export { requestAuditRecord } from '@svcauth/core/internal'
export type { AuditActor, AuditRecord } from '@svcauth/core'
export type { RequestAuditRecord } from '@svcauth/core/internal'
