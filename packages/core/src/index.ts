/**
 * @svcauth/core: framework-free inbound authentication for service-to-service calls.
 * Every public export is listed here by name.
 */
export {
  activePrincipal,
  asAuthError,
  attachAuthState,
  checkGuard,
  outcomeOf,
  readAuthState,
} from './adapter.js'
export type { AdapterOptions, AuthOutcome, RequestAuthState } from './adapter.js'
export { AUDIT_FIELD_LIMIT, auditRecord, requestAuditRecord } from './audit-record.js'
export type { AuditActor, AuditRecord, RequestAuditRecord } from './audit-record.js'
export { extractBearer } from './bearer.js'
export type { RequestLike } from './bearer.js'
export { currentAuthContext, responseEnded, runWithPrincipal, runWithRequest } from './context.js'
export type { AuthContext, ResponseLike } from './context.js'
export { AuthError, errorResponse, formatChallenge, isAuthError, STATUS_BY_CODE } from './errors.js'
export type { AuthErrorCode, AuthErrorOptions, AuthErrorReason, ErrorResponse } from './errors.js'
export { requireActor, requireAnyScope, requireClaim, requireScopes, runGuard } from './guards.js'
export type { Guard, GuardState } from './guards.js'
export type { IntrospectionOptions } from './introspection.js'
export { JWKS_DEFAULTS } from './key-source.js'
export type { JwksOptions } from './key-source.js'
export { basicAuthorization, formEncode } from './lib/form.js'
export { discover as discoverMetadata } from './lib/discovery.js'
export type { Metadata } from './lib/discovery.js'
export { assertDiscoveredUrl, assertUrl } from './lib/urls.js'
export { defaultLogger } from './logger.js'
export type { Logger } from './logger.js'
export { DEFAULT_ALGORITHMS } from './options.js'
export type { Algorithm, IssuerConfig, ResolvedOptions, VerifierOptions } from './options.js'
export { defaultActorType, rawToken } from './principal.js'
export type { Actor, ActorType, ActorTypeRule, Principal } from './principal.js'
export { createAuthenticator } from './verifier.js'
export type { Authenticator, AuthenticatorOptions } from './verifier.js'
