/**
 * Outbound metrics through `@svcauth/otel` and the real OpenTelemetry SDK (issue 16, item 3):
 * token requests by result and client id with their duration, a failed grant, the retry after a
 * target's 401, and a cached token that makes no token request at all.
 */
import { createServiceClient, type ServiceClient } from '@svcauth/client'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startDownstream, type Downstream } from '../client/downstream.js'
import { attributeValues, startMetrics, type Metrics } from './harness.js'

let issuer: TestIssuer
let smd: Downstream
let metrics: Metrics
const clients: ServiceClient[] = []

beforeEach(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'bss', secrets: ['s3cret'] })
  smd = await startDownstream()
  metrics = startMetrics()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all([smd.close(), issuer.close(), metrics.shutdown()])
})

function client(secret = 's3cret'): ServiceClient {
  const svc = createServiceClient({
    tokenEndpoint: issuer.tokenEndpoint,
    clientId: 'bss',
    clientSecret: secret,
    targets: { [smd.origin]: { scope: 'smd.read', audience: 'smd' } },
  })
  clients.push(svc)
  return svc
}

describe('svcauth.outbound.*', () => {
  it('counts token requests by result and client id, with their duration; a cached token makes none', async () => {
    const svc = client()
    await (await svc.fetch(`${smd.origin}/a`)).text()
    await (await svc.fetch(`${smd.origin}/b`)).text() // the cached token
    expect(issuer.tokenRequests).toHaveLength(1)

    const ok = { 'svcauth.result': 'ok', 'svcauth.client_id': 'bss' }
    expect(await metrics.count('svcauth.outbound.token_requests', ok)).toBe(1)
    expect(await metrics.count('svcauth.outbound.token_requests')).toBe(1)
    const durations = await metrics.histogram('svcauth.outbound.token_request.duration')
    expect(durations.map((p) => [p.attributes, p.value.count])).toEqual([[ok, 1]])
    const descriptor = (await metrics.collect()).find(
      (m) => m.descriptor.name === 'svcauth.outbound.token_request.duration',
    )?.descriptor
    expect(descriptor?.unit).toBe('s')
    expect(await metrics.count('svcauth.outbound.retries')).toBe(0)
  })

  it('counts a failed token request as an error, without the secret', async () => {
    const svc = client('wrong-secret')
    await expect(svc.fetch(`${smd.origin}/a`)).rejects.toBeDefined()
    expect(
      await metrics.count('svcauth.outbound.token_requests', {
        'svcauth.result': 'error',
        'svcauth.client_id': 'bss',
      }),
    ).toBeGreaterThanOrEqual(1)
    expect(await metrics.count('svcauth.outbound.token_requests', { 'svcauth.result': 'ok' })).toBe(
      0,
    )
    const values = attributeValues(await metrics.collect())
    expect(values.some((v) => v.includes('wrong-secret'))).toBe(false)
  })

  it('counts the retry after a target refused an accepted token with 401', async () => {
    const svc = client()
    await (await svc.fetch(`${smd.origin}/a`)).text()
    // The target now refuses that token (revoked): one 401, then the replay with a new token.
    smd.respond = (_req, n) =>
      n === 2
        ? { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }
        : undefined
    const res = await svc.fetch(`${smd.origin}/b`)
    await res.text()
    expect(res.status).toBe(200)
    expect(smd.seen).toHaveLength(3)

    expect(
      await metrics.count('svcauth.outbound.retries', {
        'svcauth.client_id': 'bss',
        'svcauth.reason': 'invalid_token',
      }),
    ).toBe(1)
    expect(await metrics.count('svcauth.outbound.token_requests', { 'svcauth.result': 'ok' })).toBe(
      2,
    )
    const tokens = smd.seen.map((s) => s.authorization?.replace(/^Bearer /, '') ?? '')
    const values = attributeValues(await metrics.collect())
    expect(values.some((v) => tokens.some((t) => t !== '' && v.includes(t)))).toBe(false)
  })
})
