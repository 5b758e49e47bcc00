/**
 * The billing-worker example: client credentials only, one `invoice_paid` audit line per
 * invoice attributed to the worker, and a token-endpoint outage survived by failing closed and
 * retrying later.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServiceClient, type ServiceClient } from '@svcauth/client'
import { createBillingWorker } from '@svcauth/example-billing-worker'
import { createSmdApp, type Smd } from '@svcauth/example-smd'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import pino from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { captureLogs, LEVEL } from '../support/log-capture.js'

let issuer: TestIssuer
let smd: Smd
let server: Server
let smdUrl: string
const clients: ServiceClient[] = []

beforeAll(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'billing-worker', secrets: ['worker-secret'] })
  smd = createSmdApp({
    auth: { issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri },
    audit: { stream: captureLogs().stream },
  })
  server = createServer(smd.app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  smdUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  smd.close()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await issuer.close()
})
afterEach(async () => {
  issuer.setTokenMode('ok')
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

function worker(retryDelay = 50) {
  const logs = captureLogs()
  const svc = createServiceClient({
    tokenEndpoint: issuer.tokenEndpoint,
    clientId: 'billing-worker',
    clientSecret: 'worker-secret',
    targets: { [smdUrl]: { scope: ['smd.read'], audience: 'smd' } },
    retry: { minDelay: 20, maxDelay: 40 },
  })
  clients.push(svc)
  const w = createBillingWorker({
    svc,
    clientId: 'billing-worker',
    apiUrl: smdUrl,
    logger: pino({}, logs.stream),
    retryDelay,
    interval: 60_000,
  })
  return { w, logs }
}

describe('billing worker example', () => {
  it('bills with its client-credentials token and audits each invoice as itself', async () => {
    const { w, logs } = worker()
    const result = await w.runOnce()
    expect(result).toEqual({ ok: true, invoices: [{ account: 'project-x3000', amount: 500 }] })
    expect(logs.audits()).toEqual([
      expect.objectContaining({
        level: LEVEL.info,
        actor_type: 'client',
        actor_id: 'billing-worker',
        sub: 'billing-worker',
        client_id: 'billing-worker',
        event: 'invoice_paid',
        target: 'project-x3000',
        amount_cents: 500,
      }),
    ])
  })

  it('fails closed while the token endpoint is down, then the retry succeeds', async () => {
    const { w, logs } = worker(30)
    issuer.setTokenMode('down')
    const deferred = await w.runOnce()
    expect(deferred).toMatchObject({ ok: false, retryIn: 30 })
    expect(deferred.ok ? '' : deferred.reason).toMatch(/^no token: /)
    expect(logs.audits()).toHaveLength(0)
    expect(logs.lines.find((l) => l.event === 'billing_run_deferred')?.level).toBe(LEVEL.warn)
    issuer.setTokenMode('ok')
    w.start()
    await expect.poll(() => logs.audits().length, { timeout: 3000 }).toBe(1)
    w.stop()
  })
})
