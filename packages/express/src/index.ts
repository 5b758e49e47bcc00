/**
 * @svcauth/express: the Express adapter. Every public export is listed here by name; the request
 * typings (`req.auth`, `req.audit`, `req.outbound`) are declared in `state.ts`.
 */
import './state.js'
export { auditLogger } from './audit.js'
export type { AuditLoggerMiddleware } from './audit.js'
export { authenticate } from './authenticate.js'
export type { AuthenticateMiddleware, AuthenticateOptions } from './authenticate.js'
export {
  requireActor,
  requireAnyScope,
  requireClaim,
  requireClaimIncludes,
  requireScopes,
} from './guards.js'
export { outbound } from './outbound.js'
export { authOutcome } from './outcome.js'
export {
  AuthError,
  currentAuthContext,
  enableRequestContext,
  isAuthError,
  MemoryReplayStore,
  rawToken,
} from '@svcauth/core'
export type { AuditDetails, AuditLoggerOptions } from '@svcauth/audit'
export type {
  AuthErrorCode,
  AuthErrorReason,
  AuthOutcome,
  ClaimPredicate,
  ClaimValue,
  DpopOptions,
  DpopReplayStore,
  MtlsOptions,
  Principal,
  RevocationList,
  SharedCache,
  SharedSet,
  SvcauthStores,
} from '@svcauth/core'
