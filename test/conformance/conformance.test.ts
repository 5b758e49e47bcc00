/**
 * The conformance table, run against Express 5, Express 4, Koa 3 and Koa 2. Each scenario checks
 * status, `WWW-Authenticate`, `Retry-After`, body and the recorded rejection reason together; the
 * last block checks that the four runs agree exactly.
 */
import { createTestIssuer } from '@svcauth/testing'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FRAMEWORKS, startApp, type Framework, type RunningApp } from './harness.js'
import { scenarios, type Kit, type Scenario } from './scenarios.js'

interface Observed {
  status: number
  challenge: string | null
  retryAfter: boolean
  contentType: string | null
  body: unknown
  reason: string | null
}

const observed = new Map<Framework, Map<string, Observed>>()

async function makeKit(): Promise<Kit> {
  const [main, outage, cold] = await Promise.all([
    createTestIssuer(),
    createTestIssuer({ keyCount: 1 }),
    createTestIssuer({ keyCount: 1 }),
  ])
  cold.setJwksMode('fail')
  const now = () => Math.floor(Date.now() / 1000)
  return {
    main,
    outage,
    cold,
    client: (scope = [], extra = {}) =>
      main.mintClientToken({ clientId: 'bss', scope, audience: ['smd'], ...extra }),
    user: (scope = [], extra = {}) =>
      main.mintUserToken({
        sub: 'alice',
        clientId: 'ochami-cli',
        scope,
        audience: ['smd'],
        ...extra,
      }),
    claims: () => ({
      iss: main.issuer,
      aud: ['smd'],
      sub: 'bss',
      client_id: 'bss',
      iat: now(),
      nbf: now(),
      exp: now() + 600,
      jti: crypto.randomUUID(),
      scp: ['smd.read'],
    }),
  }
}

async function send(app: RunningApp, kit: Kit, s: Scenario): Promise<Observed> {
  await s.before?.(kit)
  const method = s.method ?? 'GET'
  let req =
    method === 'HEAD'
      ? request(app.url).head(s.path)
      : method === 'POST'
        ? request(app.url).post(s.path)
        : request(app.url).get(s.path)
  if (s.authorization !== undefined) {
    const value = await s.authorization(kit)
    // An array sends the header once per value (Node writes one line per array element).
    req = req.set('Authorization', value as string)
  }
  for (const [name, value] of Object.entries(s.headers ?? {})) req = req.set(name, value)
  const res = await req
  await new Promise((resolve) => setImmediate(resolve))
  const challenge = res.headers['www-authenticate']
  return {
    status: res.status,
    challenge: typeof challenge === 'string' ? challenge : null,
    retryAfter: res.headers['retry-after'] !== undefined,
    contentType:
      method === 'HEAD' || res.status === 204 ? null : String(res.headers['content-type']),
    body: method === 'HEAD' ? undefined : res.body,
    reason: app.lastOutcome()?.reason ?? null,
  }
}

describe.each(FRAMEWORKS)('conformance on %s', (framework) => {
  let kit: Kit
  let app: RunningApp
  const results = new Map<string, Observed>()
  observed.set(framework, results)

  beforeAll(async () => {
    kit = await makeKit()
    app = await startApp(framework, kit)
  })
  afterAll(async () => {
    await app.close()
    await Promise.all([kit.main.close(), kit.outage.close(), kit.cold.close()])
  })

  for (const s of scenarios) {
    it(s.name, async () => {
      const got = await send(app, kit, s)
      results.set(s.name, got)
      expect(got.status).toBe(s.expect.status)
      expect(got.challenge).toBe(s.expect.challenge)
      expect(got.retryAfter).toBe(s.expect.retryAfter ?? false)
      expect(got.reason).toBe(s.expect.reason)
      if (s.expect.body !== undefined) {
        expect(got.body).toEqual(s.expect.body)
        expect(got.contentType).toBe('application/json; charset=utf-8')
      }
    })
  }
})

describe('agreement', () => {
  it('the table has at least 60 scenarios with unique names', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(60)
    expect(new Set(scenarios.map((s) => s.name)).size).toBe(scenarios.length)
  })

  it('all four runs observed exactly the same answers', () => {
    const reference = observed.get('Express 5')
    expect(reference?.size).toBe(scenarios.length)
    for (const framework of FRAMEWORKS) {
      expect(Object.fromEntries(observed.get(framework) ?? []), framework).toEqual(
        Object.fromEntries(reference ?? []),
      )
    }
  })
})
