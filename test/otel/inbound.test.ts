/**
 * Inbound metrics through `@svcauth/otel` and the real OpenTelemetry SDK (issue 16, item 3):
 * requests through an Express and a Koa app (authenticated from a miss then a hit, rejections by
 * reason), the uncached verification time, JWKS fetches (ok and error) and the key set's age,
 * introspection calls (opaque tokens and JWTs apart), and nothing recorded or published once
 * `close()` ran.
 */
import { hasSubscribers } from 'node:diagnostics_channel'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  CHANNELS,
  createAuthenticator,
  type Authenticator,
  type AuthenticatorOptions,
} from '@svcauth/core'
import * as svcExpress from '@svcauth/express'
import * as svcKoa from '@svcauth/koa'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import express from 'express'
import Koa from 'koa'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { attributeValues, startMetrics, type Metrics } from './harness.js'

let issuer: TestIssuer
let metrics: Metrics
const closers: (() => unknown)[] = []

beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})
beforeEach(() => {
  metrics = startMetrics()
})
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
  await metrics.shutdown()
})

/**
 * An authenticator closed after its first key fetch settled, so a fetch in flight cannot land in
 * the next test's metrics.
 */
function authenticator(extra: Partial<AuthenticatorOptions> = {}): Authenticator {
  const auth = createAuthenticator({ ...options(), ...extra })
  closers.push(async () => {
    await auth.ready()
    auth.close()
  })
  return auth
}

const options = () => ({ issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri })

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  )
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/things`
}

async function expressApp(): Promise<string> {
  const app = express()
  const authn = svcExpress.authenticate(options())
  closers.push(() => {
    authn.authenticator.close()
  })
  app.get('/things', authn, (_req, res) => {
    res.json({ ok: true })
  })
  return listen(app.listen(0, '127.0.0.1'))
}

async function koaApp(): Promise<string> {
  const app = new Koa()
  const authn = svcKoa.authenticate(options())
  closers.push(() => {
    authn.authenticator.close()
  })
  app.use(authn)
  app.use((ctx) => {
    ctx.body = { ok: true }
  })
  return listen(app.listen(0, '127.0.0.1'))
}

async function get(url: string, token?: string): Promise<number> {
  const res = await fetch(
    url,
    token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
  )
  await res.text()
  return res.status
}

describe.each([
  ['Express', expressApp],
  ['Koa', koaApp],
] as const)('svcauth.inbound.requests through %s', (_name, start) => {
  it('counts authenticated requests by cache use and rejections by reason, once each', async () => {
    const url = await start()
    const good = await issuer.mintUserToken({
      sub: 'alice',
      clientId: 'portal',
      scope: ['smd.read'],
      audience: ['smd'],
    })
    const otherAudience = await issuer.mintClientToken({ clientId: 'bss', audience: ['bss'] })
    expect(await get(url, good)).toBe(200) // verified: a miss
    expect(await get(url, good)).toBe(200) // the verified-token cache: a hit
    expect(await get(url)).toBe(401)
    expect(await get(url, otherAudience)).toBe(401)
    expect(await get(url, 'a.b')).toBe(401)

    const requests = 'svcauth.inbound.requests'
    const authenticated = { 'svcauth.outcome': 'authenticated' }
    expect(await metrics.count(requests, { ...authenticated, 'svcauth.cache': 'miss' })).toBe(1)
    expect(await metrics.count(requests, { ...authenticated, 'svcauth.cache': 'hit' })).toBe(1)
    const rejected = (reason: string) =>
      metrics.count(requests, { 'svcauth.outcome': 'rejected', 'svcauth.reason': reason })
    expect(await rejected('missing_token')).toBe(1)
    expect(await rejected('aud_invalid')).toBe(1)
    expect(await rejected('malformed_jws')).toBe(1)
    expect(await metrics.count(requests)).toBe(5)

    // Uncached verifications only: the good token once, the wrong audience once (jose refused it).
    const durations = await metrics.histogram('svcauth.inbound.verify.duration')
    const byResult = Object.fromEntries(
      durations.map((p) => [String(p.attributes['svcauth.result']), p.value.count]),
    )
    expect(byResult).toEqual({ ok: 1, error: 1 })
    expect(durations.every((p) => (p.value.sum ?? -1) >= 0 && (p.value.sum ?? 60) < 60)).toBe(true)

    // Never a token or a subject in an attribute.
    const values = attributeValues(await metrics.collect())
    for (const secret of [good, otherAudience, 'alice']) {
      expect(values.some((v) => v.includes(secret))).toBe(false)
    }
  })
})

describe('svcauth.inbound.requests outside an adapter', () => {
  it('counts an anonymous request of optional authentication', async () => {
    const auth = authenticator({ optional: true })
    expect(await auth.authenticate({ headers: {} })).toBeUndefined()
    expect(
      await metrics.count('svcauth.inbound.requests', {
        'svcauth.outcome': 'anonymous',
        'svcauth.cache': 'miss',
      }),
    ).toBe(1)
  })
})

describe('svcauth.jwks.fetches and svcauth.jwks.age', () => {
  it('counts good and failed fetches per issuer and reports the age of good keys only', async () => {
    const broken = await createTestIssuer()
    closers.push(() => broken.close())
    broken.setJwksMode('fail')
    const good = authenticator()
    const bad = authenticator({ issuer: broken.issuer, jwksUri: broken.jwksUri })
    expect(await good.ready()).toBe(true)
    expect(await bad.ready()).toBe(false)

    const fetches = 'svcauth.jwks.fetches'
    expect(
      await metrics.count(fetches, { 'svcauth.result': 'ok', 'svcauth.issuer': issuer.issuer }),
    ).toBe(1)
    expect(
      await metrics.count(fetches, { 'svcauth.result': 'error', 'svcauth.issuer': broken.issuer }),
    ).toBe(1)
    expect(
      await metrics.count(fetches, { 'svcauth.result': 'ok', 'svcauth.issuer': broken.issuer }),
    ).toBe(0)

    const age = (await metrics.collect()).find((m) => m.descriptor.name === 'svcauth.jwks.age')
    expect(age?.descriptor.unit).toBe('s')
    const points = age?.dataPoints ?? []
    expect(points.map((p) => p.attributes['svcauth.issuer'])).toEqual([issuer.issuer])
    expect(points[0]?.value).toBeGreaterThanOrEqual(0)
  })
})

describe('svcauth.introspection.requests', () => {
  it('counts calls to the introspection endpoint by result; cached answers make none', async () => {
    const auth = authenticator({ introspection: { endpoint: issuer.introspectionEndpoint } })
    closers.push(() => {
      issuer.setIntrospectionMode('ok')
    })
    const header = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })
    const first = issuer.mintOpaqueToken({ clientId: 'bss', audience: ['smd'] })
    await auth.authenticate(header(first))
    await auth.authenticate(header(first)) // the introspection cache answers
    issuer.setIntrospectionMode('down')
    const second = issuer.mintOpaqueToken({ clientId: 'bss', audience: ['smd'] })
    await expect(auth.authenticate(header(second))).rejects.toMatchObject({
      reason: 'introspection_unavailable',
    })

    const calls = 'svcauth.introspection.requests'
    expect(await metrics.count(calls, { 'svcauth.result': 'ok' })).toBe(1)
    expect(await metrics.count(calls, { 'svcauth.result': 'error' })).toBe(1)
    expect(
      await metrics.count('svcauth.inbound.requests', {
        'svcauth.outcome': 'rejected',
        'svcauth.reason': 'introspection_unavailable',
      }),
    ).toBe(1)
    const values = attributeValues(await metrics.collect())
    expect(values.some((v) => v.includes(first) || v.includes(second))).toBe(false)
  })

  it('labels each call with the token format: JWTs introspected after verification are jwt (issue 20)', async () => {
    const auth = authenticator({
      introspection: { endpoint: issuer.introspectionEndpoint, jwt: 'always' },
    })
    const header = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })
    const jwt = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    await auth.authenticate(header(jwt))
    await auth.authenticate(header(jwt)) // 'always': a verified-cache hit asks again
    await auth.authenticate(header(issuer.mintOpaqueToken({ clientId: 'bss', audience: ['smd'] })))

    const calls = 'svcauth.introspection.requests'
    const ok = { 'svcauth.result': 'ok' }
    expect(await metrics.count(calls, { ...ok, 'svcauth.token_format': 'jwt' })).toBe(2)
    expect(await metrics.count(calls, { ...ok, 'svcauth.token_format': 'opaque' })).toBe(1)
  })
})

describe('close()', () => {
  it('unsubscribes every channel: nothing is published or recorded afterwards', async () => {
    const auth = authenticator()
    const token = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    const req = { headers: { authorization: `Bearer ${token}` } }
    await auth.authenticate(req)
    expect(await metrics.count('svcauth.inbound.requests')).toBe(1)
    for (const name of Object.values(CHANNELS)) expect(hasSubscribers(name)).toBe(true)

    metrics.telemetry.close()
    for (const name of Object.values(CHANNELS)) expect(hasSubscribers(name)).toBe(false)
    await auth.authenticate(req)
    expect(auth.authenticateCached(req)).toBeDefined()
    await expect(auth.authenticate({ headers: {} })).rejects.toMatchObject({
      reason: 'missing_token',
    })
    expect(await metrics.count('svcauth.inbound.requests')).toBe(1)
  })
})
