/**
 * @svcauth/client: outbound service tokens and user-token propagation over undici.
 * Every public export is listed here by name.
 */
export {
  CertificateBindingError,
  isCertificateBindingError,
  isOutboundError,
  isTokenEndpointError,
  isUserTokenRefusedError,
  OutboundError,
  TokenEndpointError,
  UserTokenRefusedError,
} from './errors.js'
export type {
  AuthorizationServerError,
  CertificateBindingFailure,
  OutboundErrorCode,
  ServerFailureOptions,
  TokenErrorCode,
  UserTokenRefusal,
} from './errors.js'
export { tokenInterceptor } from './interceptor.js'
export type { Planner, RenewedToken, TokenPlan, TokenScheme } from './interceptor.js'
export { basicAuthorization, formEncode } from './lib/client-auth.js'
export type { AuthMethod, TlsAuthMethod } from './lib/client-auth.js'
export type { DpopAlgorithm, DpopKeyOptions } from './lib/dpop-key.js'
export type { ClientTlsOptions } from './lib/tls-options.js'
export type { SecretSource, ServiceClientOptions, TargetConfig, UserTokenMode } from './options.js'
export {
  deleteClient,
  isRegistrationError,
  loadCredentials,
  loadOrRegister,
  readClient,
  registerClient,
  RegistrationError,
  rotateClientSecret,
  saveCredentials,
  updateClient,
} from './registration.js'
export type {
  ClientHandle,
  ClientMetadata,
  RegisteredClient,
  RegistrationErrorCode,
  RegistrationOptions,
} from './registration.js'
export { requestToken } from './request-token.js'
export type { RequestedToken, TokenRequestOptions } from './request-token.js'
export { createServiceClient } from './service-client.js'
export type { OutboundCalls, ServiceClient } from './service-client.js'
/** The store interfaces `stores` takes (issue 21), as `@svcauth/core` defines them. */
export type { SharedCache, SharedLock, SvcauthStores } from '@svcauth/core'
