/**
 * Attaching tokens (catalogue K1–K7): the origin allow-list, redirects, retry once on 401 and the
 * cases that must not retry, single-flight under load, abort while waiting for a token, and (R12)
 * the retry after a revocation of a token the target had accepted.
 */
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { createServiceClient, type ServiceClient, type ServiceClientOptions } from '@svcauth/client'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { typeError } from '../support/type-error.js'
import { startDownstream, type Downstream } from './downstream.js'

let issuer: TestIssuer
let smd: Downstream
let stranger: Downstream
const clients: ServiceClient[] = []

beforeEach(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'bss', secrets: ['s3cret'] })
  smd = await startDownstream()
  stranger = await startDownstream('127.0.0.2')
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all([smd.close(), stranger.close(), issuer.close()])
})

function client(extra: Partial<ServiceClientOptions> = {}): ServiceClient {
  const svc = createServiceClient({
    tokenEndpoint: issuer.tokenEndpoint,
    clientId: 'bss',
    clientSecret: 's3cret',
    targets: { [smd.origin]: { scope: 'smd.read', audience: 'smd' } },
    retry: { minDelay: 50, maxDelay: 200 },
    ...extra,
  })
  clients.push(svc)
  return svc
}

const unauthorized = {
  status: 401,
  headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
  body: 'nope',
}

describe('K: attaching tokens', () => {
  it('K1: an origin outside the targets never receives a token, with fetch or request', async () => {
    const svc = client()
    await (await svc.fetch(`${stranger.origin}/a`)).text()
    await (await svc.request(`${stranger.origin}/b`)).body.text()
    await (await svc.fetch(`${smd.origin}/c`)).text()
    expect(stranger.seen.map((s) => s.authorization)).toEqual([undefined, undefined])
    expect(smd.seen[0]?.authorization).toMatch(/^Bearer /)
    expect(issuer.tokenRequests).toHaveLength(1)
  })

  it('K2: origins compare exactly: another host name, port or scheme gets nothing', async () => {
    const port = new URL(smd.origin).port
    const svc = client()
    for (const url of [`http://localhost:${port}/x`]) {
      await (await svc.fetch(url)).text()
    }
    expect(smd.seen[0]?.authorization).toBeUndefined()
    await (await svc.fetch(`http://127.0.0.1:${port}/x`)).text()
    expect(smd.seen[1]?.authorization).toMatch(/^Bearer /)
    const notAnOrigin = /must be an origin \(scheme:\/\/host\[:port\]\) with no path, query or/
    expect(() => client({ targets: { [`${smd.origin}/path`]: {} } })).toThrow(
      typeError(notAnOrigin),
    )
    expect(() => client({ targets: { 'http://u:p@127.0.0.1:1': {} } })).toThrow(
      typeError(notAnOrigin),
    )
  })

  it('K3: a redirect to another origin never carries the token', async () => {
    smd.respond = (req) =>
      req.path === '/go'
        ? { status: 307, headers: { location: `${stranger.origin}/land` } }
        : undefined
    const svc = client()
    const followed = await svc.fetch(`${smd.origin}/go`)
    expect(followed.status).toBe(200)
    await followed.text()
    expect(stranger.seen).toHaveLength(1)
    expect(stranger.seen[0]?.authorization).toBeUndefined()
    const manual = await svc.request(`${smd.origin}/go`)
    expect(manual.statusCode).toBe(307)
    await manual.body.text()
    expect(stranger.seen).toHaveLength(1)
  })

  it('leaves a caller-supplied Authorization header untouched', async () => {
    const svc = client()
    await (await svc.fetch(`${smd.origin}/x`, { headers: { authorization: 'Bearer mine' } })).text()
    expect(smd.seen[0]?.authorization).toBe('Bearer mine')
    expect(issuer.hits.token).toBe(0)
  })

  it('1,000 concurrent calls on a cold cache make exactly one token request', async () => {
    const svc = client()
    const statuses = await Promise.all(
      Array.from({ length: 1000 }, async () => {
        const res = await svc.request(`${smd.origin}/x`)
        await res.body.dump()
        return res.statusCode
      }),
    )
    expect(statuses.every((s) => s === 200)).toBe(true)
    expect(issuer.hits.token).toBe(1)
    expect(new Set(smd.seen.map((s) => s.authorization)).size).toBe(1)
  })
})

describe('K: retry once on 401', () => {
  it('K5: a rejected cached token is replaced once and the call replayed with its body', async () => {
    const svc = client()
    await svc.getToken(smd.origin)
    smd.respond = (_req, n) => (n === 1 ? unauthorized : undefined)
    const res = await svc.fetch(`${smd.origin}/x`, {
      method: 'POST',
      body: JSON.stringify({ a: 1 }),
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { body: string }).body).toBe('{"a":1}')
    expect(smd.seen).toHaveLength(2)
    expect(smd.seen[0]?.authorization).not.toBe(smd.seen[1]?.authorization)
    expect(issuer.hits.token).toBe(2)
  })

  it('K5: a downstream that always answers 401 is called twice, then the 401 surfaces', async () => {
    const svc = client()
    await svc.getToken(smd.origin)
    smd.respond = () => unauthorized
    const res = await svc.request(`${smd.origin}/x`, { method: 'PUT', body: 'payload' })
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"')
    expect(await res.body.text()).toBe('nope')
    expect(smd.seen).toHaveLength(2)
    expect(smd.seen.map((s) => s.body)).toEqual(['payload', 'payload'])
    expect(issuer.hits.token).toBe(2)
  })

  it('50 concurrent 401s on the same token cause one refresh; each call is retried at most once', async () => {
    const svc = client()
    const stale = `Bearer ${await svc.getToken(smd.origin)}`
    smd.respond = (req) => (req.authorization === stale ? unauthorized : undefined)
    const statuses = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const res = await svc.request(`${smd.origin}/x`)
        await res.body.dump()
        return res.statusCode
      }),
    )
    expect(statuses.every((s) => s === 200)).toBe(true)
    expect(issuer.hits.token).toBe(2)
    expect(smd.seen).toHaveLength(100)
  })

  it('K6: no retry on 403, on a token fetched in the same call, on another scheme, or an oversized stream', async () => {
    const svc = client({ maxReplayBytes: 1024 })
    smd.respond = () => ({ status: 401, headers: { 'www-authenticate': 'Bearer' } })
    // Fetched during this very call: not retried.
    expect((await svc.request(`${smd.origin}/fresh`)).statusCode).toBe(401)
    expect(smd.seen).toHaveLength(1)
    smd.respond = () => ({
      status: 403,
      headers: { 'www-authenticate': 'Bearer error="insufficient_scope"' },
    })
    expect((await svc.request(`${smd.origin}/forbidden`)).statusCode).toBe(403)
    smd.respond = () => ({ status: 401, headers: { 'www-authenticate': 'Basic realm="x"' } })
    expect((await svc.request(`${smd.origin}/basic`)).statusCode).toBe(401)
    smd.respond = () => unauthorized
    const big = Readable.from(Array.from({ length: 4 }, () => Buffer.alloc(512, 97)))
    const res = await svc.request(`${smd.origin}/stream`, { method: 'POST', body: big })
    expect(res.statusCode).toBe(401)
    expect(smd.seen.map((s) => s.path)).toEqual(['/fresh', '/forbidden', '/basic', '/stream'])
    expect(smd.seen[3]?.body).toHaveLength(2048)
    expect(issuer.hits.token).toBe(1)
  })

  it('K7: a late 401 for an old token does not evict the newer one', async () => {
    const svc = client()
    const first = `Bearer ${await svc.getToken(smd.origin)}`
    smd.respond = (req) => (req.authorization === first ? unauthorized : undefined)
    await (await svc.request(`${smd.origin}/a`)).body.dump()
    expect(issuer.hits.token).toBe(2)
    const second = await svc.getToken(smd.origin)
    // A slow call still holding the first token comes back with 401 now: T2 must survive.
    await (await svc.request(`${smd.origin}/b`, { headers: { authorization: first } })).body.dump()
    expect(await svc.getToken(smd.origin)).toBe(second)
    expect(issuer.hits.token).toBe(2)
  })

  it('K8: a target that rejects every token costs one token request per backoff window', async () => {
    const lines: Record<string, unknown>[] = []
    const svc = client({
      retry: { minDelay: 400, maxDelay: 400 },
      logger: { warn: (o) => lines.push(o), error: (o) => lines.push(o) },
    })
    await svc.getToken(smd.origin)
    smd.respond = () => unauthorized
    const started = performance.now()
    let calls = 0
    while (performance.now() - started < 1000) {
      const res = await svc.request(`${smd.origin}/x`)
      await res.body.dump()
      expect(res.statusCode).toBe(401)
      calls++
    }
    expect(calls).toBeGreaterThan(20)
    // One initial token, then at most one forced refresh per 400 ms window.
    expect(issuer.hits.token).toBeLessThanOrEqual(1 + Math.ceil(1000 / 400) + 1)
    const rejected = lines.filter((l) => l.event === 'token_rejected')
    expect(rejected.length).toBe(issuer.hits.token - 1)
    expect(rejected[0]).toMatchObject({ client_id: 'bss', target: smd.origin, audience: 'smd' })
  })

  it('R12: a token the target had accepted and now rejects (revoked) is replaced and retried once, even right after a forced renewal', async () => {
    // A renewal window far longer than the test: only the accepted-then-rejected rule lets R12 pass.
    const svc = client({ retry: { minDelay: 60_000, maxDelay: 60_000 } })
    const rejected = new Set<string | undefined>([`Bearer ${await svc.getToken(smd.origin)}`])
    smd.respond = (req) => (rejected.has(req.authorization) ? unauthorized : undefined)
    const get = async (path: string): Promise<number> => {
      const res = await svc.request(`${smd.origin}${path}`)
      await res.body.dump()
      return res.statusCode
    }
    // The first token is rejected before it was ever accepted: a forced renewal opens the window.
    expect(await get('/a')).toBe(200)
    expect(issuer.hits.token).toBe(2)
    const second = smd.seen.at(-1)?.authorization
    // The second token works for a while...
    expect(await get('/b')).toBe(200)
    expect(await get('/c')).toBe(200)
    // ...then is revoked: the next call gets a third token and succeeds on its one retry.
    rejected.add(second)
    expect(await get('/d')).toBe(200)
    expect(issuer.hits.token).toBe(3)
    const d = smd.seen.filter((s) => s.path === '/d').map((s) => s.authorization)
    expect(d).toHaveLength(2)
    expect(d[0]).toBe(second)
    expect(rejected.has(d[1])).toBe(false)
    // K5/K8 still hold once the target rejects every token: two downstream calls and at most one
    // token request for the call that meets it, then no token request per call.
    smd.respond = () => unauthorized
    const seen = smd.seen.length
    expect(await get('/e')).toBe(401)
    expect(smd.seen.length - seen).toBe(2)
    expect(issuer.hits.token).toBe(4)
    for (let i = 0; i < 10; i++) expect(await get('/f')).toBe(401)
    expect(issuer.hits.token).toBe(4)
    expect(smd.seen.length - seen).toBe(12)
  })

  it('honours an abort while waiting for a token', async () => {
    issuer.setTokenDelay(1500)
    const svc = client()
    const started = Date.now()
    const controller = new AbortController()
    setTimeout(() => {
      controller.abort()
    }, 100)
    await expect(svc.request(`${smd.origin}/x`, { signal: controller.signal })).rejects.toThrow()
    expect(Date.now() - started).toBeLessThan(1000)
    await sleep(10)
    expect(smd.seen).toHaveLength(0)
  })
})
