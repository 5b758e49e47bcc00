/**
 * A user's own undici dispatchers (issue 16, item 6): an `Agent`, a `MockAgent` or a
 * `ProxyAgent` from the application's undici 7 is accepted wherever svcauth takes a dispatcher,
 * because undici is a peer dependency (one copy, the application's) of @svcauth/core and
 * @svcauth/client.
 */
import type {
  RegistrationOptions,
  ServiceClientOptions,
  TokenRequestOptions,
} from '@svcauth/client'
import type { VerifierOptions } from '@svcauth/core'
import type { Agent, Dispatcher, MockAgent, ProxyAgent } from 'undici'
import { describe, expectTypeOf, test } from 'vitest'

describe("the application's undici dispatchers", () => {
  test('Agent, MockAgent and ProxyAgent are dispatchers', () => {
    expectTypeOf<Agent>().toExtend<Dispatcher>()
    expectTypeOf<MockAgent>().toExtend<Dispatcher>()
    expectTypeOf<ProxyAgent>().toExtend<Dispatcher>()
  })

  test('createServiceClient takes each as dispatcher and tokenDispatcher', () => {
    expectTypeOf<{ dispatcher: Agent; tokenDispatcher: Agent }>().toExtend<
      Pick<ServiceClientOptions, 'dispatcher' | 'tokenDispatcher'>
    >()
    expectTypeOf<{ dispatcher: MockAgent; tokenDispatcher: MockAgent }>().toExtend<
      Pick<ServiceClientOptions, 'dispatcher' | 'tokenDispatcher'>
    >()
    expectTypeOf<{ dispatcher: ProxyAgent; tokenDispatcher: ProxyAgent }>().toExtend<
      Pick<ServiceClientOptions, 'dispatcher' | 'tokenDispatcher'>
    >()
  })

  test('requestToken, registration and the verifier take each as dispatcher', () => {
    expectTypeOf<{ dispatcher: Agent | MockAgent | ProxyAgent }>().toExtend<
      Pick<TokenRequestOptions, 'dispatcher'>
    >()
    expectTypeOf<{ dispatcher: Agent | MockAgent | ProxyAgent }>().toExtend<
      Pick<RegistrationOptions, 'dispatcher'>
    >()
    expectTypeOf<{ dispatcher: Agent | MockAgent | ProxyAgent }>().toExtend<
      Pick<VerifierOptions, 'dispatcher'>
    >()
  })
})
