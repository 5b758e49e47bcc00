/**
 * The real OpenTelemetry metrics SDK for the otel tests: a MeterProvider whose reader exports to
 * the SDK's InMemoryMetricExporter (cumulative), flushed on demand (the export interval is an
 * hour, so nothing is exported by time), and readers of what the last export holds.
 */
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics'
import { instrument, type Instrumentation } from '@svcauth/otel'

export interface Metrics {
  readonly telemetry: Instrumentation
  /** Exports now and returns every metric of the svcauth meter. */
  collect(): Promise<MetricData[]>
  /** The sum of a counter's points whose attributes include `where`. */
  count(name: string, where?: Record<string, string>): Promise<number>
  /** The histogram points of `name` (count, sum). */
  histogram(name: string): Promise<DataPoint<Histogram>[]>
  shutdown(): Promise<void>
}

export function startMetrics(): Metrics {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const meterProvider = new MeterProvider({ readers: [reader] })
  const telemetry = instrument({ meterProvider })
  const collect = async (): Promise<MetricData[]> => {
    await reader.forceFlush()
    const last = exporter.getMetrics().at(-1)
    return last?.scopeMetrics.find((s) => s.scope.name === 'svcauth')?.metrics ?? []
  }
  const points = async (name: string): Promise<DataPoint<unknown>[]> =>
    (await collect()).find((m) => m.descriptor.name === name)?.dataPoints ?? []
  return {
    telemetry,
    collect,
    async count(name, where = {}) {
      let total = 0
      for (const point of await points(name)) {
        if (Object.entries(where).every(([k, v]) => point.attributes[k] === v)) {
          total += point.value as number
        }
      }
      return total
    },
    async histogram(name) {
      return (await points(name)) as DataPoint<Histogram>[]
    },
    async shutdown() {
      telemetry.close()
      await meterProvider.shutdown()
    },
  }
}

/** Every attribute value of every point, to check that no token, secret or subject is among them. */
export function attributeValues(metrics: readonly MetricData[]): string[] {
  return metrics.flatMap((m) =>
    m.dataPoints.flatMap((p) => Object.values(p.attributes).map((v) => String(v))),
  )
}
