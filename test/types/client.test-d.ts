/**
 * Type tests of @svcauth/client's public API: the service client, its targets and secrets, the
 * outbound errors, and client registration, as README documents them.
 */
import type { Principal } from '@svcauth/core'
import type {
  CertificateBindingError,
  RegistrationError,
  TokenEndpointError,
  UserTokenRefusedError,
} from '@svcauth/client'
import {
  createServiceClient,
  isCertificateBindingError,
  isRegistrationError,
  isTokenEndpointError,
  isUserTokenRefusedError,
  loadCredentials,
  loadOrRegister,
  registerClient,
  saveCredentials,
  type AuthMethod,
  type CertificateBindingFailure,
  type ClientMetadata,
  type ClientTlsOptions,
  type OutboundErrorCode,
  type TlsAuthMethod,
  type DpopAlgorithm,
  type DpopKeyOptions,
  type OutboundCalls,
  type RenewedToken,
  type TokenPlan,
  type TokenScheme,
  type UserTokenRefusal,
  type RegisteredClient,
  type RegistrationErrorCode,
  type RegistrationOptions,
  type SecretSource,
  type ServiceClient,
  type ServiceClientOptions,
  type TargetConfig,
  type TokenErrorCode,
  type UserTokenMode,
} from '@svcauth/client'
import type { Dispatcher } from 'undici'
import { describe, expectTypeOf, test } from 'vitest'

describe('createServiceClient', () => {
  test('takes the documented options and returns a ServiceClient', () => {
    expectTypeOf(createServiceClient).parameter(0).toEqualTypeOf<ServiceClientOptions>()
    expectTypeOf(createServiceClient).returns.toEqualTypeOf<ServiceClient>()
    expectTypeOf(createServiceClient).toBeCallableWith({
      tokenEndpoint: 'http://hydra:4444/oauth2/token',
      clientId: 'bss',
      clientSecret: ['current', 'previous'],
      targets: {
        'http://smd:27779': { scope: ['smd.read'], audience: 'smd', userToken: 'forward' },
      },
      allowInsecureHttp: true,
    })
    expectTypeOf(createServiceClient).toBeCallableWith({
      issuer: 'http://hydra:4444/',
      registration: {
        credentialsFile: '/var/lib/bss/oauth-client.json',
        adminUrl: 'http://hydra:4445',
        metadata: { client_id: 'bss', scope: 'smd.read', audience: ['smd'] },
      },
      targets: { 'http://smd:27779': { scope: 'smd.read', resource: 'urn:openchami:smd' } },
    })
  })

  test('dpop: true, false, or a private key with its algorithm', () => {
    const base = {
      tokenEndpoint: 'http://hydra:4444/oauth2/token',
      clientId: 'bss',
      clientSecret: 's',
      targets: { 'http://smd:27779': { audience: 'smd' } },
    }
    expectTypeOf(createServiceClient).toBeCallableWith({ ...base, dpop: true })
    expectTypeOf(createServiceClient).toBeCallableWith({ ...base, dpop: false })
    expectTypeOf(createServiceClient).toBeCallableWith({
      ...base,
      dpop: { privateKey: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }, alg: 'ES256' },
    })
    expectTypeOf<ServiceClientOptions['dpop']>().toEqualTypeOf<
      boolean | DpopKeyOptions | undefined
    >()
    expectTypeOf<DpopKeyOptions['alg']>().toEqualTypeOf<DpopAlgorithm | undefined>()
    expectTypeOf<'ES256' | 'PS512' | 'EdDSA'>().toExtend<DpopAlgorithm>()
    expectTypeOf<'HS256'>().not.toExtend<DpopAlgorithm>()
    expectTypeOf<'none'>().not.toExtend<DpopAlgorithm>()
  })

  test('token plans name their scheme; a renewal may change it', () => {
    expectTypeOf<TokenScheme>().toEqualTypeOf<'Bearer' | 'DPoP'>()
    expectTypeOf<TokenPlan['scheme']>().toEqualTypeOf<TokenScheme | undefined>()
    expectTypeOf<{ token: 't'; renew: undefined }>().toExtend<TokenPlan>()
    expectTypeOf<RenewedToken>().toEqualTypeOf<{
      readonly token: string
      readonly scheme: TokenScheme
      readonly certificate?: string | undefined
    }>()
    expectTypeOf<TokenPlan['certificate']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<NonNullable<TokenPlan['renew']>>().returns.resolves.toEqualTypeOf<
      string | RenewedToken
    >()
  })

  test('tls: a certificate and key as PEM or files, CAs; the mutual-TLS auth methods', () => {
    expectTypeOf(createServiceClient).toBeCallableWith({
      issuer: 'https://hydra.example/',
      clientId: 'bss',
      authMethod: 'tls_client_auth',
      tls: {
        certFile: '/etc/step/certs/bss.crt',
        keyFile: '/etc/step/secrets/bss.key',
        caFile: '/etc/step/certs/root_ca.crt',
      },
      targets: {
        'https://smd:27779': { audience: 'smd' },
        'https://bss-admin:8443': { audience: 'admin', tls: { ca: Buffer.from('') } },
        'https://public.example': { tls: false },
      },
    })
    expectTypeOf(createServiceClient).toBeCallableWith({
      tokenEndpoint: 'https://hydra.example/oauth2/token',
      clientId: 'worker',
      authMethod: 'self_signed_tls_client_auth',
      tls: {
        cert: '-----BEGIN CERTIFICATE-----',
        key: Buffer.from(''),
        ca: ['a', Buffer.from('b')],
      },
      targets: { 'https://smd:27779': {} },
    })
    expectTypeOf<ServiceClientOptions['tls']>().toEqualTypeOf<ClientTlsOptions | undefined>()
    expectTypeOf<TargetConfig['tls']>().toEqualTypeOf<ClientTlsOptions | false | undefined>()
    expectTypeOf<ClientTlsOptions['cert']>().toEqualTypeOf<string | Buffer | undefined>()
    expectTypeOf<ClientTlsOptions['certFile']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<ClientTlsOptions['ca']>().toEqualTypeOf<
      string | Buffer | readonly (string | Buffer)[] | undefined
    >()
    expectTypeOf<TlsAuthMethod>().toEqualTypeOf<'tls_client_auth' | 'self_signed_tls_client_auth'>()
    expectTypeOf<TlsAuthMethod>().toExtend<AuthMethod>()
    expectTypeOf<{ tls: true }>().not.toExtend<TargetConfig>()
  })

  test('targets, secrets and user-token modes', () => {
    expectTypeOf<UserTokenMode>().toEqualTypeOf<'forward' | 'exchange' | 'never'>()
    expectTypeOf<{ userToken: 'exchange'; audience: ['smd'] }>().toExtend<TargetConfig>()
    expectTypeOf<{ userToken: 'always' }>().not.toExtend<TargetConfig>()
    expectTypeOf<string>().toExtend<SecretSource>()
    expectTypeOf<[string, string]>().toExtend<SecretSource>()
    expectTypeOf<() => Promise<string>>().toExtend<SecretSource>()
  })

  test('the client calls through undici and acts for a principal', () => {
    expectTypeOf<ServiceClient['fetch']>().toBeCallableWith('http://smd:27779/x')
    expectTypeOf<ServiceClient['fetch']>().returns.resolves.toHaveProperty('status')
    expectTypeOf<
      ServiceClient['request']
    >().returns.resolves.toEqualTypeOf<Dispatcher.ResponseData>()
    expectTypeOf<ServiceClient['dispatcher']>().toEqualTypeOf<Dispatcher>()
    expectTypeOf<
      ServiceClient['interceptor']
    >().toEqualTypeOf<Dispatcher.DispatcherComposeInterceptor>()
    expectTypeOf<ServiceClient['forPrincipal']>()
      .parameter(0)
      .toEqualTypeOf<Principal | undefined>()
    expectTypeOf<ServiceClient['forPrincipal']>().returns.toEqualTypeOf<OutboundCalls>()
    expectTypeOf<OutboundCalls['fetch']>().toEqualTypeOf<ServiceClient['fetch']>()
    expectTypeOf<ServiceClient['getToken']>().returns.resolves.toEqualTypeOf<string>()
    expectTypeOf<ServiceClient['close']>().returns.resolves.toBeVoid()
  })
})

test('outbound errors carry a code, the OAuth error and the status', () => {
  expectTypeOf<TokenEndpointError>().toExtend<Error>()
  expectTypeOf<TokenEndpointError['code']>().toExtend<string>()
  expectTypeOf<TokenEndpointError['error']>().toEqualTypeOf<TokenErrorCode>()
  expectTypeOf<'invalid_client' | 'network_error'>().toExtend<TokenErrorCode>()
  expectTypeOf<TokenEndpointError['status']>().toEqualTypeOf<number | undefined>()
  expectTypeOf<TokenEndpointError['retryable']>().toEqualTypeOf<boolean>()
  expectTypeOf(isTokenEndpointError).guards.toEqualTypeOf<TokenEndpointError>()
  expectTypeOf<UserTokenRefusedError['code']>().toExtend<string>()
  expectTypeOf<UserTokenRefusedError['origin']>().toEqualTypeOf<string>()
  expectTypeOf<UserTokenRefusedError['status']>().toExtend<number>()
  expectTypeOf<UserTokenRefusedError['reason']>().toEqualTypeOf<UserTokenRefusal>()
  expectTypeOf<UserTokenRefusal>().toEqualTypeOf<'not_issued_for_target' | 'sender_constrained'>()
  expectTypeOf<'use_dpop_nonce' | 'invalid_dpop_proof'>().toExtend<TokenErrorCode>()
  expectTypeOf(isUserTokenRefusedError).guards.toEqualTypeOf<UserTokenRefusedError>()
  expectTypeOf<RegistrationError['code']>().toExtend<string>()
  expectTypeOf<RegistrationError['error']>().toEqualTypeOf<RegistrationErrorCode>()
  expectTypeOf<'conflict' | 'invalid_token'>().toExtend<RegistrationErrorCode>()
  expectTypeOf(isRegistrationError).guards.toEqualTypeOf<RegistrationError>()
  expectTypeOf<CertificateBindingError['code']>().toEqualTypeOf<'ERR_CERTIFICATE_BINDING'>()
  expectTypeOf<'ERR_CERTIFICATE_BINDING'>().toExtend<OutboundErrorCode>()
  expectTypeOf<CertificateBindingError['origin']>().toEqualTypeOf<string>()
  expectTypeOf<CertificateBindingError['reason']>().toEqualTypeOf<CertificateBindingFailure>()
  expectTypeOf<CertificateBindingFailure>().toEqualTypeOf<'no_certificate' | 'other_certificate'>()
  expectTypeOf<CertificateBindingError['certificate']>().toEqualTypeOf<string>()
  expectTypeOf<CertificateBindingError['presented']>().toEqualTypeOf<string | undefined>()
  expectTypeOf(isCertificateBindingError).guards.toEqualTypeOf<CertificateBindingError>()
})

test('registration steps a service can run itself', () => {
  expectTypeOf(registerClient).parameter(0).toEqualTypeOf<RegistrationOptions>()
  expectTypeOf(registerClient).returns.resolves.toEqualTypeOf<RegisteredClient>()
  expectTypeOf<RegistrationOptions['metadata']>().toEqualTypeOf<ClientMetadata | undefined>()
  expectTypeOf(saveCredentials).toBeCallableWith(
    '/var/lib/bss/oauth-client.json',
    {} as RegisteredClient,
  )
  expectTypeOf(loadCredentials).returns.resolves.toEqualTypeOf<RegisteredClient | undefined>()
  expectTypeOf(loadOrRegister).returns.resolves.toEqualTypeOf<RegisteredClient>()
  expectTypeOf<RegisteredClient['clientId']>().toEqualTypeOf<string>()
  expectTypeOf<RegisteredClient['clientSecret']>().toEqualTypeOf<string | undefined>()
})
