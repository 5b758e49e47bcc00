/**
 * R11 (issue 14): a client configured with `issuer` discovers its token endpoint again instead of
 * keeping the first answer for the life of the process. A real discovery server (test issuer A)
 * names the token endpoint of another issuer; the tests move it and stop the old one.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  createServiceClient,
  isTokenEndpointError,
  type ServiceClient,
  type ServiceClientOptions,
} from '@svcauth/client'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { Agent, type Dispatcher } from 'undici'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { typeError } from '../support/type-error.js'
import { startDownstream, type Downstream } from './downstream.js'

const COOLDOWN = 100

let discovery: TestIssuer
let before: TestIssuer
let after: TestIssuer
let targets: Downstream[]
const clients: ServiceClient[] = []
const closing: Dispatcher[] = []

beforeEach(async () => {
  ;[discovery, before, after] = await Promise.all([
    createTestIssuer({ keyCount: 1 }),
    createTestIssuer({ keyCount: 1 }),
    createTestIssuer({ keyCount: 1 }),
  ])
  for (const i of [discovery, before, after]) i.addClient({ clientId: 'bss', secrets: ['s3cret'] })
  discovery.setDiscoveryOverrides({ token_endpoint: before.tokenEndpoint })
  targets = await Promise.all(Array.from({ length: 4 }, () => startDownstream()))
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(closing.splice(0).map((d) => d.close()))
  await Promise.all([
    ...targets.map((t) => t.close()),
    discovery.close(),
    before.close(),
    after.close(),
  ])
})

/** A client with four targets: each one's first token is a token request of its own. */
function client(extra: Partial<ServiceClientOptions> = {}): ServiceClient {
  const svc = createServiceClient({
    issuer: discovery.issuer,
    clientId: 'bss',
    clientSecret: 's3cret',
    // Distinct scopes: tokens are cached per (client, scope, audience), not per origin.
    targets: Object.fromEntries(targets.map((t, n) => [t.origin, { scope: `smd.t${String(n)}` }])),
    discovery: { cooldown: COOLDOWN, refreshInterval: 3_600_000 },
    retry: { minDelay: 10, maxDelay: 20 },
    ...extra,
  })
  clients.push(svc)
  return svc
}

/**
 * A token dispatcher that records every request and sends only to loopback, so a bug could never
 * make a test contact an address taken from hostile metadata.
 */
function loopbackOnly(): { dispatcher: Dispatcher; seen: string[] } {
  const seen: string[] = []
  const dispatcher = new Agent().compose((dispatch) => (opts, handler) => {
    const url = `${String(opts.origin)}${opts.path}`
    seen.push(url)
    if (!url.startsWith('http://127.0.0.1:')) {
      handler.onResponseError?.(null as never, new Error(`refused off loopback: ${url}`))
      return true
    }
    return dispatch(opts, handler)
  })
  closing.push(dispatcher)
  return { dispatcher, seen }
}

async function call(svc: ServiceClient, n: number): Promise<string> {
  const target = targets[n]!
  try {
    const res = await svc.request(`${target.origin}/x`)
    await res.body.dump()
    return `${String(res.statusCode)} ${target.seen.at(-1)?.authorization === undefined ? 'none' : 'bearer'}`
  } catch (err) {
    return isTokenEndpointError(err) ? `error ${err.error}` : `error ${String(err)}`
  }
}

describe('R11: re-discovery of the token endpoint', () => {
  it('R11: the token endpoint moves to a new server and the old one stops: the client recovers without restart', async () => {
    const lines: Record<string, unknown>[] = []
    const svc = client({
      logger: {
        info: (o) => lines.push(o),
        warn: (o) => lines.push(o),
        error: (o) => lines.push(o),
      },
    })
    expect(await call(svc, 0)).toBe('200 bearer')
    expect(before.hits.token).toBe(1)
    expect(discovery.hits.discovery).toBe(1)

    await before.close()
    discovery.setDiscoveryOverrides({ token_endpoint: after.tokenEndpoint })
    await sleep(COOLDOWN + 50) // past the cooldown since the first discovery

    // The old endpoint does not answer: discovery names the new one, which is tried at once.
    expect(await call(svc, 1)).toBe('200 bearer')
    expect(after.hits.token).toBe(1)
    expect(discovery.hits.discovery).toBe(2)
    expect(lines.filter((l) => l.event === 'token_endpoint_changed')).toEqual([
      expect.objectContaining({
        issuer: discovery.issuer,
        previous: before.tokenEndpoint,
        token_endpoint: after.tokenEndpoint,
      }),
    ])
    expect(lines.some((l) => l.event === 'token_fetch_failed')).toBe(false)
    // From now on the new endpoint is used directly.
    expect(await call(svc, 2)).toBe('200 bearer')
    expect(after.hits.token).toBe(2)
    expect(discovery.hits.discovery).toBe(2)
  })

  it('R11: a 404, 405, 410 or 5xx from the old endpoint re-discovers; an OAuth refusal does not', async () => {
    const modes = [
      { status: 404, body: '' },
      { status: 405, body: '' },
      { status: 410, body: '' },
      '5xx',
    ] as const
    for (const mode of modes) {
      discovery.setDiscoveryOverrides({ token_endpoint: before.tokenEndpoint })
      before.setTokenMode('ok')
      const svc = client()
      expect(await call(svc, 0)).toBe('200 bearer')
      const discoveries = discovery.hits.discovery
      const moved = after.hits.token
      before.setTokenMode(mode)
      discovery.setDiscoveryOverrides({ token_endpoint: after.tokenEndpoint })
      await sleep(COOLDOWN + 50)
      expect(await call(svc, 1), JSON.stringify(mode)).toBe('200 bearer')
      expect(discovery.hits.discovery - discoveries, JSON.stringify(mode)).toBe(1)
      expect(after.hits.token - moved, JSON.stringify(mode)).toBe(1)
    }
    // A live endpoint refusing the client is not a move.
    discovery.setDiscoveryOverrides({ token_endpoint: before.tokenEndpoint })
    before.setTokenMode({ status: 400, body: '{"error":"invalid_scope"}' })
    const svc = client()
    const discoveries = discovery.hits.discovery
    expect(await call(svc, 0)).toBe('error invalid_scope')
    await sleep(COOLDOWN + 50)
    expect(await call(svc, 1)).toBe('error invalid_scope')
    expect(discovery.hits.discovery - discoveries).toBe(1) // the first discovery only
  })

  it('R11: a failed or hostile re-discovery keeps the last good endpoint; failures cost one discovery per cooldown', async () => {
    const { dispatcher, seen } = loopbackOnly()
    const lines: Record<string, unknown>[] = []
    const logger = { warn: (o: Record<string, unknown>) => lines.push(o), error: () => undefined }
    // Inside the cooldown since the first discovery, a failure causes no discovery at all.
    const strict = client({
      discovery: { cooldown: 60_000, refreshInterval: 3_600_000 },
      tokenDispatcher: dispatcher,
    })
    expect(await call(strict, 0)).toBe('200 bearer')
    before.setTokenMode('5xx')
    expect(await call(strict, 1)).toBe('error server_error')
    expect(discovery.hits.discovery).toBe(1)

    const svc = client({ tokenDispatcher: dispatcher, logger })
    before.setTokenMode('ok')
    expect(await call(svc, 0)).toBe('200 bearer')
    expect(discovery.hits.discovery).toBe(2)
    // The endpoint fails and so does discovery: concurrent failures share one discovery.
    before.setTokenMode('5xx')
    discovery.setDiscoveryMode('fail')
    await sleep(COOLDOWN + 50)
    const results = await Promise.all([1, 2, 3].map((n) => call(svc, n)))
    expect(results).toEqual(['error server_error', 'error server_error', 'error server_error'])
    // One discovery: a failing one asks both well-known addresses (OIDC, then RFC 8414).
    expect(discovery.hits.discovery).toBe(4)
    expect(lines.filter((l) => l.event === 'token_endpoint_discovery_failed')).toHaveLength(1)

    // Metadata naming a link-local endpoint fails the same checks as the first discovery's: it is
    // never contacted and the last good endpoint stays.
    discovery.setDiscoveryMode('ok')
    discovery.setDiscoveryOverrides({ token_endpoint: 'https://169.254.169.254/latest/meta-data/' })
    await sleep(COOLDOWN + 50)
    expect(await call(svc, 1)).toBe('error server_error')
    expect(discovery.hits.discovery).toBe(5)
    expect(lines.filter((l) => l.event === 'token_endpoint_discovery_failed')).toHaveLength(2)
    before.setTokenMode('ok')
    await sleep(50) // past the token backoff of target 2
    expect(await call(svc, 2)).toBe('200 bearer')
    expect(before.hits.token).toBe(8)
    expect(seen.filter((url) => !url.startsWith('http://127.0.0.1:'))).toEqual([])
    // A client that never had a good endpoint fails closed with the refusal.
    const fresh = client({ tokenDispatcher: dispatcher })
    expect(await call(fresh, 0)).toBe('error invalid_response')
  })

  it('R11: once the last discovery is older than refreshInterval, a token request re-discovers in the background', async () => {
    const changed: Record<string, unknown>[] = []
    const svc = client({
      discovery: { cooldown: 0, refreshInterval: 1000 },
      logger: {
        info: (o) => {
          if (o.event === 'token_endpoint_changed') changed.push(o)
        },
        warn: () => undefined,
        error: () => undefined,
      },
    })
    expect(await call(svc, 0)).toBe('200 bearer')
    // The old endpoint keeps working; the issuer now names a new one.
    discovery.setDiscoveryOverrides({ token_endpoint: after.tokenEndpoint })
    expect(await call(svc, 1)).toBe('200 bearer')
    expect(discovery.hits.discovery).toBe(1) // not stale yet: no discovery
    await sleep(1050)
    // Stale: this request still goes to the current endpoint, and discovery runs meanwhile.
    expect(await call(svc, 2)).toBe('200 bearer')
    expect(before.hits.token).toBe(3)
    await vi.waitFor(() => {
      expect(changed).toHaveLength(1)
    })
    expect(discovery.hits.discovery).toBe(2)
    expect(await call(svc, 3)).toBe('200 bearer')
    expect(after.hits.token).toBe(1)
    expect(before.hits.token).toBe(3)
  })

  it('R11: discovery settings are checked at construction', () => {
    for (const [bad, message] of [
      [{ cooldown: -1 }, /discovery\.cooldown must be a number from 0 to 3600000/],
      [{ refreshInterval: Number.NaN }, /discovery\.refreshInterval must be a number from 0 to/],
      [{ cooldown: 1e12 }, /discovery\.cooldown must be a number from 0 to 3600000/],
    ] as const) {
      expect(() => client({ discovery: bad }), JSON.stringify(bad)).toThrow(typeError(message))
    }
  })
})
