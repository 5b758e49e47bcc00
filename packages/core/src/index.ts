/**
 * @svcauth/core: framework-free inbound authentication for service-to-service calls. The main
 * entry is the user API: verification, errors, the Principal and guards, and the context readers.
 * What the adapters, the client and the audit package share lives in `@svcauth/core/internal`.
 * Every public export is listed here by name.
 */
export type { AdapterOptions, AuthOutcome } from './adapter.js'
export { auditRecord } from './audit-record.js'
export type { AuditActor, AuditRecord } from './audit-record.js'
export { extractBearer } from './bearer.js'
export {
  accessTokenHash,
  DpopProofError,
  MemoryReplayStore,
  verifyDpopProof,
} from './dpop-proof.js'
export type {
  DpopProofErrorCode,
  DpopProofPolicy,
  DpopProofReason,
  DpopReplayStore,
  DpopRequest,
  VerifiedDpopProof,
} from './dpop-proof.js'
export { DPOP_ALGORITHMS } from './dpop-options.js'
export type { DpopNonceOptions, DpopOptions } from './dpop-options.js'
export type { HeaderSink } from './dpop-request.js'
export type { ClientCertificateFormat, MtlsOptions } from './mtls-options.js'
export type { PeerSocket } from './mtls-request.js'
export { CHANNELS } from './diagnostics.js'
export type {
  InboundRequestEvent,
  IntrospectionEvent,
  IntrospectionFormat,
  JwksFetchEvent,
  RetryEvent,
  TokenRequestEvent,
  VerifyEvent,
} from './diagnostics.js'
export type { RequestLike } from './bearer.js'
export { currentAuthContext, enableRequestContext, runWithPrincipal } from './context.js'
export type { AuthContext } from './context.js'
export { AuthError, errorResponse, formatChallenge, isAuthError, STATUS_BY_CODE } from './errors.js'
export type {
  AuthErrorCode,
  AuthErrorOptions,
  AuthErrorReason,
  DpopChallenge,
  ErrorResponse,
} from './errors.js'
export {
  requireActor,
  requireAnyScope,
  requireClaim,
  requireClaimIncludes,
  requireScopes,
  runGuard,
} from './guards.js'
export type { ClaimPredicate, ClaimValue, Guard, GuardState } from './guards.js'
export type { IntrospectionOptions, JwtIntrospection } from './introspection-options.js'
export type { IntrospectionStatus } from './introspection.js'
export { DEFAULT_ALGORITHMS } from './issuer-options.js'
export type {
  Algorithm,
  IssuerCacheOptions,
  IssuerConfig,
  IssuerResolver,
} from './issuer-options.js'
export { JWKS_DEFAULTS } from './jwks-options.js'
export type { JwksOptions } from './jwks-options.js'
export type { KeyFailure, KeyFailureReason, KeyStatus } from './key-source.js'
export type { OfflineKeys, PublicJwk, PublicJwkSet } from './key-options.js'
export { createWarningLogger, defaultLogger, WARNING_CODES } from './logger.js'
export type { Logger, WarningLoggerOptions } from './logger.js'
export type { ResolvedOptions, VerifierOptions } from './options.js'
export { defaultActorType, rawToken } from './principal.js'
export type { Actor, ActorType, ActorTypeRule, Principal } from './principal.js'
export type { Confirmation } from './claims.js'
export type {
  Revocation,
  RevocationList,
  SharedCache,
  SharedLock,
  SharedSet,
  SvcauthStores,
} from './stores.js'
export { createAuthenticator } from './verifier.js'
export type { Authenticator, AuthenticatorOptions, IssuerStatus } from './verifier.js'
