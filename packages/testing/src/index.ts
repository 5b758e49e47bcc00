/**
 * @svcauth/testing: an in-process issuer on loopback for svcauth's tests and yours.
 * Every public export is listed here by name, with every type its interface uses.
 */
export { captureAuditLines } from './audit-lines.js'
export type { AuditCapture, AuditLine } from './audit-lines.js'
export { createDpopKey } from './dpop.js'
export type { DpopAlgorithm, DpopKey, DpopProofOptions } from './dpop.js'
export { certificateThumbprint, createSelfSignedCertificate, createTestCa } from './tls.js'
export type { CertificateOptions, TestCa, TestCertificate } from './tls.js'
export { createTestIssuer } from './issuer.js'
export { createMemoryStores } from './memory-stores.js'
export type {
  MemoryCache,
  MemoryLock,
  MemorySet,
  MemoryStoreMode,
  MemoryStores,
  MemoryStoresOptions,
} from './memory-stores.js'
export type { TestIssuer, TestIssuerOptions, TestIssuerTlsOptions } from './issuer.js'
export type { RegisteredCertificate } from './client-certificate.js'
export type { DiscoveryMode } from './discovery.js'
export type { JwksMode, JwksRequest } from './jwks.js'
export type { MintOptions } from './minting.js'
export type { ClientAuthMethod, TestClient, TokenMode, TokenRequest } from './token-endpoint.js'
export type {
  IntrospectionMode,
  IntrospectionRequest,
  OpaqueTokenOptions,
} from './introspection.js'
