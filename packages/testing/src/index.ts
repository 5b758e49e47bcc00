/**
 * @svcauth/testing: an in-process issuer on loopback for svcauth's tests and yours.
 * Every public export is listed here by name.
 */
export { createTestIssuer } from './issuer.js'
export type { DiscoveryMode, JwksMode, TestIssuer, TestIssuerOptions } from './issuer.js'
export type { ClientAuthMethod, TestClient, TokenMode, TokenRequest } from './token-endpoint.js'
export type {
  IntrospectionMode,
  IntrospectionRequest,
  OpaqueTokenOptions,
} from './introspection.js'
