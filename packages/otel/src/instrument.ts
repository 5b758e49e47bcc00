/**
 * svcauth's events (`node:diagnostics_channel`, Node docs "Diagnostics Channel"; names in
 * `@svcauth/core`'s `CHANNELS`) turned into OpenTelemetry metrics, through `@opentelemetry/api`
 * only: the application brings its SDK, readers and exporters (Prometheus, OTLP). Instrument
 * names and units follow the OpenTelemetry semantic-conventions guidance (durations in seconds,
 * `s`; counts with a `{…}` annotation), under the meter `svcauth`.
 *
 * Nothing is subscribed until `instrument()` runs, so an application without it pays nothing;
 * `close()` unsubscribes every channel and removes the gauge's callback. Attributes are only
 * outcomes, reasons, issuers and client ids: never a token, a secret or a subject.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import {
  metrics,
  type Attributes,
  type MeterProvider,
  type ObservableResult,
} from '@opentelemetry/api'
import {
  CHANNELS,
  type InboundRequestEvent,
  type IntrospectionEvent,
  type JwksFetchEvent,
  type RetryEvent,
  type TokenRequestEvent,
  type VerifyEvent,
} from '@svcauth/core'

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /** Where the instruments are created. @default metrics.getMeterProvider() (the global one) */
  readonly meterProvider?: MeterProvider
}

/** What {@link instrument} returns: `close()` stops recording (unsubscribes). */
export interface Instrumentation {
  close(): void
}

/** The meter name every svcauth instrument is created under. */
export const METER_NAME = 'svcauth'

// The SDK's default buckets (0 … 10000) suit milliseconds; these durations are in seconds.
const VERIFY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
]
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]

type Listener = (message: unknown, name: string | symbol) => void

/**
 * Subscribes to svcauth's diagnostics channels and records them as OpenTelemetry metrics:
 * `svcauth.inbound.requests`, `svcauth.inbound.verify.duration`, `svcauth.jwks.fetches`,
 * `svcauth.jwks.age`, `svcauth.introspection.requests`, `svcauth.outbound.token_requests`,
 * `svcauth.outbound.token_request.duration` and `svcauth.outbound.retries`. Call it once, at
 * start-up, before the authenticators are created (the JWKS age is learnt from fetch events).
 *
 * @example
 * ```ts
 * import { MeterProvider } from '@opentelemetry/sdk-metrics'
 * import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
 * import { instrument } from '@svcauth/otel'
 *
 * const exporter = new PrometheusExporter({ port: 9464 })
 * const telemetry = instrument({ meterProvider: new MeterProvider({ readers: [exporter] }) })
 * // … on shutdown
 * telemetry.close()
 * ```
 */
export function instrument(options: InstrumentOptions = {}): Instrumentation {
  const provider = options.meterProvider ?? metrics.getMeterProvider()
  const meter = provider.getMeter(METER_NAME)

  const inboundRequests = meter.createCounter('svcauth.inbound.requests', {
    description: 'Inbound requests the authenticator decided, by outcome, reason and cache use',
    unit: '{request}',
  })
  const verifyDuration = meter.createHistogram('svcauth.inbound.verify.duration', {
    description: 'Time to verify a JWT that was not in the verified-token cache',
    unit: 's',
    // A verification is CPU work plus, at worst, a key fetch: sub-millisecond to seconds.
    advice: { explicitBucketBoundaries: VERIFY_BUCKETS },
  })
  const jwksFetches = meter.createCounter('svcauth.jwks.fetches', {
    description: 'JWKS fetch attempts, by result and issuer',
    unit: '{fetch}',
  })
  const jwksAge = meter.createObservableGauge('svcauth.jwks.age', {
    description: 'Seconds since the last good key set was fetched, per issuer',
    unit: 's',
  })
  const introspections = meter.createCounter('svcauth.introspection.requests', {
    description: 'Calls to the introspection endpoint, by result and token format (opaque, jwt)',
    unit: '{request}',
  })
  const tokenRequests = meter.createCounter('svcauth.outbound.token_requests', {
    description: 'Outbound token requests (grants), by result and client id',
    unit: '{request}',
  })
  const tokenDuration = meter.createHistogram('svcauth.outbound.token_request.duration', {
    description: 'Time of an outbound token request',
    unit: 's',
    // The semantic conventions' buckets for HTTP client durations, in seconds.
    advice: { explicitBucketBoundaries: HTTP_BUCKETS },
  })
  const retries = meter.createCounter('svcauth.outbound.retries', {
    description: 'Outbound calls replayed with a new token after a 401',
    unit: '{retry}',
  })

  // Attribute sets are few (closed reasons, configured issuers and clients): made once, reused.
  const attributes = new Map<string, Attributes>()
  const attrs = (key: string, make: () => Attributes): Attributes => {
    let found = attributes.get(key)
    if (found === undefined) {
      found = Object.freeze(make())
      attributes.set(key, found)
    }
    return found
  }

  /** Issuer → when its last good key set was installed (ms since the epoch). */
  const lastGoodKeys = new Map<string, number>()
  const observeAge = (result: ObservableResult): void => {
    const now = Date.now()
    for (const [issuer, at] of lastGoodKeys) {
      result.observe(
        Math.max(0, (now - at) / 1000),
        attrs(`issuer|${issuer}`, () => ({ 'svcauth.issuer': issuer })),
      )
    }
  }
  jwksAge.addCallback(observeAge)

  const listeners: Record<string, Listener> = {
    [CHANNELS.inboundRequest]: (message) => {
      const { outcome, reason, cache } = message as InboundRequestEvent
      inboundRequests.add(
        1,
        attrs(`in|${outcome}|${reason ?? ''}|${cache}`, () => ({
          'svcauth.outcome': outcome,
          ...(reason === undefined ? {} : { 'svcauth.reason': reason }),
          'svcauth.cache': cache,
        })),
      )
    },
    [CHANNELS.inboundVerify]: (message) => {
      const { result, duration } = message as VerifyEvent
      verifyDuration.record(
        duration,
        attrs(`result|${result}`, () => ({ 'svcauth.result': result })),
      )
    },
    [CHANNELS.jwksFetch]: (message) => {
      const { issuer, result, lastSuccess } = message as JwksFetchEvent
      if (lastSuccess !== undefined) lastGoodKeys.set(issuer, lastSuccess)
      jwksFetches.add(
        1,
        attrs(`jwks|${result}|${issuer}`, () => ({
          'svcauth.result': result,
          'svcauth.issuer': issuer,
        })),
      )
    },
    [CHANNELS.introspectionRequest]: (message) => {
      // Publishers older than issue 20 send no format: they only introspected opaque tokens.
      const { result, format = 'opaque' } = message as IntrospectionEvent
      introspections.add(
        1,
        attrs(`introspection|${result}|${format}`, () => ({
          'svcauth.result': result,
          'svcauth.token_format': format,
        })),
      )
    },
    [CHANNELS.outboundTokenRequest]: (message) => {
      const { clientId, result, duration } = message as TokenRequestEvent
      const set = attrs(`token|${result}|${clientId}`, () => ({
        'svcauth.result': result,
        'svcauth.client_id': clientId,
      }))
      tokenRequests.add(1, set)
      tokenDuration.record(duration, set)
    },
    [CHANNELS.outboundRetry]: (message) => {
      // Publishers older than DPoP (issue 18) send no reason: they only retried on invalid_token.
      const { clientId, reason = 'invalid_token' } = message as RetryEvent
      retries.add(
        1,
        attrs(`retry|${reason}|${clientId}`, () => ({
          'svcauth.client_id': clientId,
          'svcauth.reason': reason,
        })),
      )
    },
  }

  for (const [name, listener] of Object.entries(listeners)) subscribe(name, listener)
  let closed = false
  return Object.freeze({
    close(): void {
      if (closed) return
      closed = true
      for (const [name, listener] of Object.entries(listeners)) unsubscribe(name, listener)
      jwksAge.removeCallback(observeAge)
      lastGoodKeys.clear()
    },
  })
}
