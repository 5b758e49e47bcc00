/**
 * The conformance table, run against Express 5, Express 4, Koa 3 and Koa 2. Each scenario checks
 * status, `WWW-Authenticate`, `Retry-After`, body and the recorded rejection reason together; the
 * last block checks that the four runs agree exactly.
 */
import { createDpopKey, createTestIssuer } from '@svcauth/testing'
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
  /** The request's audit line: actor fields, outcome, reason and level (name). */
  log: Record<string, unknown>
}

const observed = new Map<Framework, Map<string, Observed>>()
/** Every log line of every scenario, per run. */
const allLogs = new Map<Framework, string[]>(FRAMEWORKS.map((f) => [f, []]))

async function makeKit(): Promise<Kit> {
  const [main, outage, cold, key, otherKey, edKey] = await Promise.all([
    createTestIssuer(),
    createTestIssuer({ keyCount: 1 }),
    createTestIssuer({ keyCount: 1 }),
    createDpopKey('ES256'),
    createDpopKey('ES256'),
    createDpopKey('EdDSA'),
  ])
  cold.setJwksMode('fail')
  const now = () => Math.floor(Date.now() / 1000)
  return {
    main,
    outage,
    cold,
    key,
    otherKey,
    edKey,
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

/** Every Authorization value sent, per run, for the leak check. */
const sent = new Map<Framework, Set<string>>()

const LEVEL_NAMES: Record<number, string> = { 30: 'info', 40: 'warn', 50: 'error' }

async function send(
  app: RunningApp,
  kit: Kit,
  s: Scenario,
  authorizations: Set<string>,
): Promise<Observed> {
  await s.before?.(kit)
  const dpop = await s.dpop?.(kit, app.url)
  app.logs.clear()
  const method = s.method ?? 'GET'
  let req =
    method === 'HEAD'
      ? request(app.url).head(s.path)
      : method === 'POST'
        ? request(app.url).post(s.path)
        : request(app.url).get(s.path)
  if (s.authorization !== undefined) {
    const value = await s.authorization(kit)
    for (const v of Array.isArray(value) ? value : [value]) authorizations.add(v)
    // An array sends the header once per value (Node writes one line per array element).
    req = req.set('Authorization', value as string)
  }
  for (const [name, value] of Object.entries(s.headers ?? {})) req = req.set(name, value)
  if (dpop !== undefined) {
    authorizations.add(dpop.authorization)
    for (const proof of dpop.proofs) authorizations.add(proof)
    req = req.set('Authorization', dpop.authorization)
    // One DPoP field per proof: an array makes Node write the header once per value.
    if (dpop.proofs.length > 0) req = req.set('DPoP', [...dpop.proofs] as unknown as string)
  }
  const res = await req
  await new Promise((resolve) => setImmediate(resolve))
  const challenge = res.headers['www-authenticate']
  const lines = app.logs.requests()
  expect(lines, 'exactly one request line').toHaveLength(1)
  const line = lines[0] ?? { level: 0 }
  const log: Record<string, unknown> = {
    actor_type: line.actor_type,
    actor_id: line.actor_id,
    sub: line.sub,
    client_id: line.client_id,
    outcome: line.outcome,
    reason: line.reason ?? null,
    // Outage lines are budgeted (error, then warn until the interval ends): compare the bucket.
    level: res.status >= 500 ? 'budgeted' : LEVEL_NAMES[line.level],
  }
  return {
    status: res.status,
    challenge: typeof challenge === 'string' ? challenge : null,
    retryAfter: res.headers['retry-after'] !== undefined,
    contentType:
      method === 'HEAD' || res.status === 204 ? null : String(res.headers['content-type']),
    body: method === 'HEAD' ? undefined : res.body,
    reason: app.lastOutcome()?.reason ?? null,
    log,
  }
}

/** What the audit line must say, from the scenario's literal expectations and the answer. */
function expectedLog(s: Scenario, got: Observed): Record<string, unknown> {
  const { status, reason } = s.expect
  if (status === 403) {
    // A guard refused a verified caller: the line names who was refused.
    expect(got.log.actor_type).toMatch(/^(client|user)$/)
    expect(got.log.actor_id).toEqual(expect.any(String))
    return { ...got.log, outcome: 'rejected', reason, level: 'warn' }
  }
  if (reason !== null) {
    return {
      actor_type: 'anonymous',
      actor_id: null,
      sub: null,
      client_id: null,
      outcome: 'rejected',
      reason,
      level: status >= 500 ? 'budgeted' : reason === 'missing_token' ? 'info' : 'warn',
    }
  }
  const body = got.body as Record<string, unknown> | undefined
  const level = status >= 500 ? 'budgeted' : status >= 400 ? 'warn' : 'info'
  if (typeof body?.actorType === 'string') {
    return {
      actor_type: body.actorType,
      actor_id: body.actorId,
      sub: body.sub,
      client_id: body.clientId,
      outcome: 'authenticated',
      reason: null,
      level,
    }
  }
  return { ...got.log, reason: null, level }
}

describe.each(FRAMEWORKS)('conformance on %s', (framework) => {
  let kit: Kit
  let app: RunningApp
  const results = new Map<string, Observed>()
  observed.set(framework, results)
  const authorizations = new Set<string>()
  sent.set(framework, authorizations)

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
      const got = await send(app, kit, s, authorizations)
      results.set(s.name, got)
      expect(got.status).toBe(s.expect.status)
      expect(got.challenge).toBe(s.expect.challenge)
      expect(got.retryAfter).toBe(s.expect.retryAfter ?? false)
      expect(got.reason).toBe(s.expect.reason)
      if (s.expect.body !== undefined) {
        expect(got.body).toEqual(s.expect.body)
        expect(got.contentType).toBe('application/json; charset=utf-8')
      }
      expect(got.log).toEqual(expectedLog(s, got))
      expect(app.logs.raw.join('')).not.toMatch(/\bat .+:\d+:\d+\)/) // no stack traces
      for (const secret of s.secrets ?? []) expect(app.logs.raw.join('')).not.toContain(secret)
      allLogs.get(framework)?.push(...app.logs.raw)
    })
  }
})

describe('agreement', () => {
  it('no log line of any scenario holds a token, a signature or an Authorization value', () => {
    for (const framework of FRAMEWORKS) {
      const text = allLogs.get(framework)?.join('') ?? ''
      const values = [...(sent.get(framework) ?? [])]
      expect(values.length, framework).toBeGreaterThan(40)
      expect(text.length, framework).toBeGreaterThan(0)
      for (const value of values) {
        // The value, and each long piece of it: a token's segments, a signature on its own.
        const pieces = [value, ...value.split(/[\s.,]+/)].filter((p) => p.length >= 12)
        for (const piece of pieces) {
          expect(text.includes(piece), `${framework} leaked ${piece.slice(0, 16)}…`).toBe(false)
        }
      }
    }
  })

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
