/**
 * @svcauth/otel: svcauth's diagnostics-channel events as OpenTelemetry metrics, through
 * `@opentelemetry/api` only. Every public export is listed here by name.
 */
export { instrument, METER_NAME } from './instrument.js'
export type { Instrumentation, InstrumentOptions } from './instrument.js'
