/**
 * @svcauth/core/internal: what svcauth's own packages share and users do not need. The adapters
 * use the request flow (`authenticateFlow`, `guardFlow`) and the per-request state; the audit package the
 * request record; the client the URL policy, discovery, form encoding and the bounded HTTP exchange
 * (`httpRequest`: timeout, byte cap, no redirects, typed failures). Not covered by semver: import
 * the main entry instead.
 */
export { activePrincipal, outcomeOf, requestPrincipal } from './adapter.js'
export type { RequestAuthState } from './adapter.js'
export { AUDIT_FIELD_LIMIT, requestAuditRecord } from './audit-record.js'
export type { RequestAuditRecord } from './audit-record.js'
export { enterRequest, requestContextEnabled, responseEnded, runWithRequest } from './context.js'
export type { ResponseLike } from './context.js'
export { retryChannel, tokenRequestChannel } from './diagnostics.js'
export { authenticateFlow, guardFlow } from './flow.js'
export type { AuthenticateFlow, FrameworkBindings } from './flow.js'
export { basicAuthorization, formEncode } from './lib/form.js'
export { discover as discoverMetadata } from './lib/discovery.js'
export type { Metadata } from './lib/discovery.js'
export { HttpError, httpJson, httpRequest } from './lib/http.js'
export type { HttpFailure, HttpLimits, HttpMethod, HttpRequest, HttpResponse } from './lib/http.js'
export { assertDiscoveredUrl, assertUrl, resolveHttpAllowance } from './lib/urls.js'
export type { HttpAllowance } from './lib/urls.js'
export { resolveStores } from './stores.js'
export { LogThrottle } from './lib/log-throttle.js'
