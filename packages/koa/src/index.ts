/**
 * @svcauth/koa: the Koa adapter (Koa 2 and 3). Every public export is listed here by name.
 */
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
export type { AuditContext, AuthState, OutboundContext } from './state.js'
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
