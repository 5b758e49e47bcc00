/**
 * Type tests of @svcauth/testing's public API: `createTestIssuer` and every type its interface
 * uses, each exported by name (an option or mode a test cannot name is a gap in the kit).
 */
import {
  createTestIssuer,
  type ClientAuthMethod,
  type DiscoveryMode,
  type IntrospectionMode,
  type IntrospectionRequest,
  type JwksMode,
  type JwksRequest,
  type MintOptions,
  type OpaqueTokenOptions,
  type RegisteredCertificate,
  type TestCa,
  type TestCertificate,
  type TestClient,
  type TestIssuer,
  type TestIssuerOptions,
  type TestIssuerTlsOptions,
  type TokenMode,
  type TokenRequest,
} from '@svcauth/testing'
import { describe, expectTypeOf, test } from 'vitest'

test('createTestIssuer(options) starts a TestIssuer', () => {
  expectTypeOf(createTestIssuer).parameter(0).toEqualTypeOf<TestIssuerOptions | undefined>()
  expectTypeOf(createTestIssuer).returns.resolves.toEqualTypeOf<TestIssuer>()
  expectTypeOf(createTestIssuer).toBeCallableWith({
    trailingSlash: true,
    keyCount: 1,
    accessTokenFormat: 'opaque',
  })
  expectTypeOf<TestIssuer['close']>().returns.resolves.toBeVoid()
})

describe('every type of the interface is exported', () => {
  test('minting', () => {
    expectTypeOf<TestIssuer['mintClientToken']>()
      .parameter(0)
      .toEqualTypeOf<MintOptions & { clientId: string }>()
    expectTypeOf<TestIssuer['mintUserToken']>()
      .parameter(0)
      .toEqualTypeOf<MintOptions & { sub: string; clientId: string }>()
    expectTypeOf<TestIssuer['forgeClientToken']>()
      .parameter(0)
      .toEqualTypeOf<MintOptions & { clientId: string }>()
    expectTypeOf<TestIssuer['mintAccessToken']>()
      .parameter(0)
      .toEqualTypeOf<Omit<MintOptions, 'scope' | 'audience'> | undefined>()
    expectTypeOf<TestIssuer['mintClientToken']>().returns.resolves.toEqualTypeOf<string>()
    expectTypeOf<TestIssuer['mintOpaqueToken']>().parameter(0).toEqualTypeOf<OpaqueTokenOptions>()
    expectTypeOf<TestIssuer['mintOpaqueToken']>().returns.toEqualTypeOf<string>()
  })

  test('endpoint modes', () => {
    expectTypeOf<TestIssuer['setJwksMode']>().parameter(0).toEqualTypeOf<JwksMode>()
    expectTypeOf<TestIssuer['setDiscoveryMode']>().parameter(0).toEqualTypeOf<DiscoveryMode>()
    expectTypeOf<TestIssuer['setTokenMode']>().parameter(0).toEqualTypeOf<TokenMode>()
    expectTypeOf<TestIssuer['setIntrospectionMode']>()
      .parameter(0)
      .toEqualTypeOf<IntrospectionMode>()
    expectTypeOf<'fail' | 'hang' | 'garbage' | 'stall-body' | 'redirect'>().toExtend<JwksMode>()
    expectTypeOf<{ status: 404; body: 'nope' }>().toExtend<JwksMode>()
  })

  test('what the endpoints received, and their clients', () => {
    expectTypeOf<TestIssuer['jwksRequests']>().toEqualTypeOf<readonly JwksRequest[]>()
    expectTypeOf<TestIssuer['tokenRequests']>().toEqualTypeOf<readonly TokenRequest[]>()
    expectTypeOf<TestIssuer['introspectionRequests']>().toEqualTypeOf<
      readonly IntrospectionRequest[]
    >()
    expectTypeOf<TestIssuer['addClient']>().parameter(0).toEqualTypeOf<TestClient>()
    expectTypeOf<TestClient['authMethod']>().toEqualTypeOf<ClientAuthMethod | undefined>()
    expectTypeOf<TestIssuer['hits']['jwks']>().toEqualTypeOf<number>()
  })
})

describe('the issuer keys, for verifiers given them offline (issue 20, item 1)', () => {
  test('as a JWKS object, as PEM, as a certificate', () => {
    expectTypeOf<TestIssuer['publicKeys']>().returns.toEqualTypeOf<{
      keys: Record<string, unknown>[]
    }>()
    expectTypeOf<TestIssuer['publicKeyPem']>().parameter(0).toEqualTypeOf<string | undefined>()
    expectTypeOf<TestIssuer['publicKeyPem']>().returns.toEqualTypeOf<string>()
    expectTypeOf<TestIssuer['publicKeyPems']>().returns.toEqualTypeOf<string[]>()
    expectTypeOf<TestIssuer['publicKeyCertificate']>().returns.resolves.toEqualTypeOf<string>()
  })
})

describe('the issuer over TLS (RFC 8705)', () => {
  test('tls takes the test CA, and optionally a server certificate', () => {
    expectTypeOf<TestIssuerOptions['tls']>().toEqualTypeOf<TestIssuerTlsOptions | undefined>()
    expectTypeOf<TestIssuerTlsOptions['ca']>().toEqualTypeOf<TestCa>()
    expectTypeOf<TestIssuerTlsOptions['server']>().toEqualTypeOf<TestCertificate | undefined>()
    expectTypeOf<TestIssuer['mtlsTokenEndpoint']>().toEqualTypeOf<string | undefined>()
  })

  test('clients authenticate with certificates; requests record what was presented', () => {
    expectTypeOf<'tls_client_auth' | 'self_signed_tls_client_auth'>().toExtend<ClientAuthMethod>()
    expectTypeOf<TestClient['tlsClientAuthSubjectDn']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<TestClient['certificates']>().toEqualTypeOf<
      readonly RegisteredCertificate[] | undefined
    >()
    expectTypeOf<TestCertificate>().toExtend<RegisteredCertificate>()
    expectTypeOf<string>().toExtend<RegisteredCertificate>()
    expectTypeOf<TokenRequest['path']>().toEqualTypeOf<string>()
    expectTypeOf<TokenRequest['certificate']>().toEqualTypeOf<string | undefined>()
  })
})
