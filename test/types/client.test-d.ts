/**
 * Type tests of @svcauth/client's public API: the service client, its targets and secrets, the
 * outbound errors, and client registration, as README documents them.
 */
import type { Principal } from '@svcauth/core'
import type { RegistrationError, TokenEndpointError, UserTokenRefusedError } from '@svcauth/client'
import {
  createServiceClient,
  isRegistrationError,
  isTokenEndpointError,
  isUserTokenRefusedError,
  loadCredentials,
  loadOrRegister,
  registerClient,
  saveCredentials,
  type ClientMetadata,
  type OutboundCalls,
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
  expectTypeOf(isUserTokenRefusedError).guards.toEqualTypeOf<UserTokenRefusedError>()
  expectTypeOf<RegistrationError['code']>().toExtend<string>()
  expectTypeOf<RegistrationError['error']>().toEqualTypeOf<RegistrationErrorCode>()
  expectTypeOf<'conflict' | 'invalid_token'>().toExtend<RegistrationErrorCode>()
  expectTypeOf(isRegistrationError).guards.toEqualTypeOf<RegistrationError>()
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
