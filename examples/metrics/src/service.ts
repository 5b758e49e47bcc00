/**
 * An Express service behind svcauth whose auth metrics are exposed for Prometheus: the
 * OpenTelemetry metrics SDK with the Prometheus exporter as its reader, `instrument()` from
 * `@svcauth/otel` feeding it, and `GET /metrics` served on its own loopback admin port (kept off
 * the public listener, as Envoy keeps its admin interface; Prometheus text format).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { authenticate, requireScopes } from '@svcauth/express'
import { instrument } from '@svcauth/otel'
import express from 'express'

export interface MetricsServiceOptions {
  readonly issuer: string
  readonly jwksUri: string
  readonly audience: string
}

export interface MetricsService {
  /** The service: `GET /hsm/v2/State/Components` requires `smd.read`. */
  readonly origin: string
  /** The Prometheus scrape address, `http://127.0.0.1:<port>/metrics`. */
  readonly metricsUrl: string
  close(): Promise<void>
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    })
  })
}

/**
 * Starts the service and its metrics endpoint on free loopback ports.
 *
 * @example
 * ```ts
 * const svc = await startMetricsService({ issuer, jwksUri, audience: 'smd' })
 * console.log(await (await fetch(svc.metricsUrl)).text())
 * await svc.close()
 * ```
 */
export async function startMetricsService(options: MetricsServiceOptions): Promise<MetricsService> {
  // The exporter is a pull reader: its own server stays off, its handler is mounted below.
  const exporter = new PrometheusExporter({ preventServerStart: true })
  const meterProvider = new MeterProvider({ readers: [exporter] })
  // Before the authenticator is built, so the first JWKS fetch is counted.
  const telemetry = instrument({ meterProvider })

  const app = express()
  const authn = authenticate(options)
  app.use('/hsm/v2', authn)
  app.get('/hsm/v2/State/Components', requireScopes('smd.read'), (req, res) => {
    res.json({ Components: [], caller: req.auth?.actorId })
  })
  const service = createServer(app)
  const admin = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') exporter.getMetricsRequestHandler(req, res)
    else res.writeHead(404).end()
  })
  const [origin, adminOrigin] = await Promise.all([listen(service), listen(admin)])
  return {
    origin,
    metricsUrl: `${adminOrigin}/metrics`,
    async close() {
      authn.authenticator.close()
      telemetry.close()
      service.closeAllConnections()
      admin.closeAllConnections()
      await Promise.all([
        new Promise((resolve) => service.close(resolve)),
        new Promise((resolve) => admin.close(resolve)),
      ])
      await meterProvider.shutdown()
    },
  }
}
