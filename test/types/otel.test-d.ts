/**
 * Type tests of @svcauth/otel's public API and of the diagnostics-channel names and payloads
 * `@svcauth/core` documents (issue 16, item 3).
 */
import { subscribe } from 'node:diagnostics_channel'
import { metrics, type MeterProvider } from '@opentelemetry/api'
import { MeterProvider as SdkMeterProvider } from '@opentelemetry/sdk-metrics'
import {
  CHANNELS,
  type InboundRequestEvent,
  type IntrospectionEvent,
  type JwksFetchEvent,
  type RetryEvent,
  type TokenRequestEvent,
  type VerifyEvent,
} from '@svcauth/core'
import { instrument, METER_NAME, type Instrumentation, type InstrumentOptions } from '@svcauth/otel'
import { expectTypeOf, test } from 'vitest'

test('instrument({ meterProvider? }) returns { close() }', () => {
  expectTypeOf(instrument).parameter(0).toEqualTypeOf<InstrumentOptions | undefined>()
  expectTypeOf(instrument).returns.toEqualTypeOf<Instrumentation>()
  expectTypeOf(instrument).toBeCallableWith()
  expectTypeOf(instrument).toBeCallableWith({ meterProvider: new SdkMeterProvider() })
  expectTypeOf(instrument).toBeCallableWith({ meterProvider: metrics.getMeterProvider() })
  expectTypeOf<InstrumentOptions['meterProvider']>().toEqualTypeOf<MeterProvider | undefined>()
  expectTypeOf<Instrumentation['close']>().toEqualTypeOf<() => void>()
  expectTypeOf(METER_NAME).toEqualTypeOf<string>()
  // @ts-expect-error: the options are an object
  instrument('svcauth')
})

test('the channel names are literal, and the payloads closed', () => {
  expectTypeOf(CHANNELS.inboundRequest).toEqualTypeOf<'svcauth:inbound:request'>()
  expectTypeOf(CHANNELS.inboundVerify).toEqualTypeOf<'svcauth:inbound:verify'>()
  expectTypeOf(CHANNELS.jwksFetch).toEqualTypeOf<'svcauth:jwks:fetch'>()
  expectTypeOf(CHANNELS.introspectionRequest).toEqualTypeOf<'svcauth:introspection:request'>()
  expectTypeOf(CHANNELS.outboundTokenRequest).toEqualTypeOf<'svcauth:outbound:token_request'>()
  expectTypeOf(CHANNELS.outboundRetry).toEqualTypeOf<'svcauth:outbound:retry'>()
  expectTypeOf<InboundRequestEvent['outcome']>().toEqualTypeOf<
    'authenticated' | 'anonymous' | 'rejected'
  >()
  expectTypeOf<InboundRequestEvent['cache']>().toEqualTypeOf<'hit' | 'miss'>()
  expectTypeOf<VerifyEvent['duration']>().toEqualTypeOf<number>()
  expectTypeOf<JwksFetchEvent['result']>().toEqualTypeOf<'ok' | 'error'>()
  expectTypeOf<JwksFetchEvent['lastSuccess']>().toEqualTypeOf<number | undefined>()
  expectTypeOf<IntrospectionEvent['result']>().toEqualTypeOf<'ok' | 'error'>()
  expectTypeOf<IntrospectionEvent['format']>().toEqualTypeOf<'opaque' | 'jwt' | undefined>()
  expectTypeOf<TokenRequestEvent['clientId']>().toEqualTypeOf<string>()
  expectTypeOf<RetryEvent>().toEqualTypeOf<{
    readonly clientId: string
    readonly reason?: 'invalid_token' | 'use_dpop_nonce'
  }>()
  subscribe(CHANNELS.inboundRequest, (message) => {
    const event = message as InboundRequestEvent
    expectTypeOf(event.reason).toEqualTypeOf<InboundRequestEvent['reason']>()
  })
})
