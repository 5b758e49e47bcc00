/**
 * Audit logging through both adapters (catalogue I1, I2, I4, I5, I6): one request line per request
 * with the actor fields, the outcome and the rejection reason; `req.audit` / `ctx.audit` lines;
 * credentials masked in headers and query strings; bounded, single-line identity fields; levels by
 * outcome with budgeted error lines. Assertions parse the real pino output.
 */
import { createServer } from 'node:http'
import { auditEvent, auditHttpOptions, createAuditLogger } from '@svcauth/audit'
import { createAuthenticator, runWithPrincipal } from '@svcauth/core'
import { pinoHttp } from 'pino-http'
import * as ex from '@svcauth/express'
import * as ko from '@svcauth/koa'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import Router from '@koa/router'
import express from 'express'
import Koa from 'koa'
import pino from 'pino'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { typeError } from '../support/type-error.js'
import { captureLogs, LEVEL, type LogCapture } from '../support/log-capture.js'

let issuer: TestIssuer
let outage: TestIssuer
const closers: (() => void)[] = []

beforeAll(async () => {
  ;[issuer, outage] = await Promise.all([createTestIssuer(), createTestIssuer({ keyCount: 1 })])
})
afterAll(async () => {
  for (const close of closers.splice(0)) close()
  await Promise.all([issuer.close(), outage.close()])
})

type Options = ex.AuditLoggerOptions

/** The same service on either framework: auditLogger, then authenticate, then routes. */
interface Built {
  readonly handler: Parameters<typeof request>[0]
}

function authOptions(which: TestIssuer = issuer) {
  return {
    issuer: which.issuer,
    audience: 'smd',
    jwksUri: which.jwksUri,
    jwks: { cooldown: 0, timeout: 200 },
    cache: false as const,
  }
}

function expressApp(options: Options, which?: TestIssuer): Built {
  const app = express()
  app.use(ex.auditLogger(options))
  app.get('/public', (_req, res) => {
    res.json({ public: true })
  })
  // A handler that (unwisely) logs and audits the request's headers.
  app.post('/echo-headers', (req, res) => {
    req.log.info({ headers: req.headers }, 'handler saw headers')
    req.audit?.('headers_seen', { target: 'x1', headers: req.headers })
    res.status(204).end()
  })
  const auth = ex.authenticate(authOptions(which))
  closers.push(() => {
    auth.authenticator.close()
  })
  app.use(auth)
  app.get('/nodes/:xname', ex.requireScopes('smd.read'), (req, res) => {
    res.json({ xname: req.params.xname })
  })
  app.post('/invoices/:id/pay', (req, res) => {
    req.audit?.('invoice_paid', { target: req.params.id, amount: 12, event: 'spoofed' })
    res.status(204).end()
  })
  return { handler: app }
}

function koaApp(options: Options, which?: TestIssuer): Built {
  const app = new Koa()
  app.use(ko.auditLogger(options))
  const open = new Router<object, ko.AuditContext>()
  open.get('/public', (ctx) => {
    ctx.body = { public: true }
  })
  open.post('/echo-headers', (ctx) => {
    ctx.log.info({ headers: ctx.headers }, 'handler saw headers')
    ctx.audit('headers_seen', { target: 'x1', headers: ctx.headers })
    ctx.status = 204
  })
  app.use(open.routes())
  const auth = ko.authenticate(authOptions(which))
  closers.push(() => {
    auth.authenticator.close()
  })
  app.use(auth)
  const router = new Router<ko.AuthState, ko.AuditContext>()
  router.get('/nodes/:xname', ko.requireScopes('smd.read'), (ctx) => {
    ctx.body = { xname: ctx.params.xname }
  })
  router.post('/invoices/:id/pay', (ctx) => {
    ctx.audit('invoice_paid', { target: ctx.params.id, amount: 12, event: 'spoofed' })
    ctx.status = 204
  })
  app.use(router.routes())
  return { handler: app.callback() }
}

const client = (scope = ['smd.read'], extra: Record<string, unknown> = {}) =>
  issuer.mintClientToken({ clientId: 'bss', scope, audience: ['smd'], claims: extra })
const user = (extra: Record<string, unknown> = {}) =>
  issuer.mintUserToken({
    sub: 'alice',
    clientId: 'ochami-cli',
    scope: ['smd.read'],
    audience: ['smd'],
    claims: extra,
  })

/** Every token segment longer than 8 characters, so a leaked signature alone is caught too. */
function secretsOf(token: string): string[] {
  return [token, ...token.split('.').filter((s) => s.length > 8)]
}

function expectNoLeak(logs: LogCapture, secrets: readonly string[]): void {
  const text = logs.raw.join('')
  for (const secret of secrets)
    expect(text.includes(secret), `leaked ${secret.slice(0, 12)}…`).toBe(false)
}

describe.each([
  ['Express', expressApp],
  ['Koa', koaApp],
] as const)('audit on %s', (_name, build) => {
  function setup(options: Options = {}, which?: TestIssuer) {
    const logs = captureLogs()
    const app = build({ stream: logs.stream, ...options }, which)
    return { logs, http: () => request(app.handler) }
  }

  it('attributes a Hydra client token, a user token and a missing token; never logs the token', async () => {
    const { logs, http } = setup()
    const clientToken = await client()
    const userToken = await user()
    await http()
      .get('/nodes/x3000c0s1b0n0')
      .set('Authorization', `Bearer ${clientToken}`)
      .expect(200)
    await http().get('/nodes/x3000c0s1b0n0').set('Authorization', `Bearer ${userToken}`).expect(200)
    await http().get('/nodes/x3000c0s1b0n0').expect(401)
    const [asClient, asUser, missing] = logs.requests()
    expect(logs.requests()).toHaveLength(3)
    expect(asClient).toMatchObject({
      actor_type: 'client',
      actor_id: 'bss',
      sub: 'bss',
      client_id: 'bss',
      outcome: 'authenticated',
      route: '/nodes/:xname',
      level: LEVEL.info,
    })
    expect(asClient).not.toHaveProperty('reason')
    expect(asUser).toMatchObject({
      actor_type: 'user',
      actor_id: 'alice',
      sub: 'alice',
      client_id: 'ochami-cli',
      outcome: 'authenticated',
    })
    expect(missing).toMatchObject({
      actor_type: 'anonymous',
      actor_id: null,
      sub: null,
      client_id: null,
      outcome: 'rejected',
      reason: 'missing_token',
      event: 'auth.rejected',
      level: LEVEL.info,
      msg: 'request rejected',
    })
    expect(missing).not.toHaveProperty('err')
    expectNoLeak(logs, [...secretsOf(clientToken), ...secretsOf(userToken)])
  })

  it('logs a route that never authenticates as outcome none, and a 404 too', async () => {
    const { logs, http } = setup()
    await http().get('/public').expect(200)
    expect(logs.requests()[0]).toMatchObject({ actor_type: 'anonymous', outcome: 'none' })
  })

  it('audit events carry the same actor fields; details cannot overwrite them', async () => {
    const { logs, http } = setup()
    await http()
      .post('/invoices/inv-7/pay')
      .set('Authorization', `Bearer ${await client(['billing.write'])}`)
      .expect(204)
    const [line] = logs.audits()
    expect(logs.audits()).toHaveLength(1)
    expect(line).toMatchObject({
      level: LEVEL.info,
      actor_type: 'client',
      actor_id: 'bss',
      sub: 'bss',
      client_id: 'bss',
      event: 'invoice_paid',
      target: 'inv-7',
      amount: 12,
      dropped_keys: ['event'],
    })
    // The audit line and the request line join on req_id.
    expect(line?.req_id).toBe(logs.requests()[0]?.req_id)
  })

  it('a delegated token (RFC 8693 act) shows the user and the acting service', async () => {
    const { logs, http } = setup()
    const delegated = await user({ act: { sub: 'bss', act: { sub: 'gateway' } } })
    await http().post('/invoices/inv-8/pay').set('Authorization', `Bearer ${delegated}`).expect(204)
    const expected = {
      actor_type: 'user',
      actor_id: 'alice',
      sub: 'alice',
      act: { sub: 'bss', act: { sub: 'gateway' } },
    }
    expect(logs.audits()[0]).toMatchObject(expected)
    expect(logs.requests()[0]).toMatchObject(expected)
  })

  it('I1: credential headers are masked, with svcauth’s logger and with a bare pino logger', async () => {
    const bare = captureLogs()
    for (const { logs, http } of [
      setup(),
      { ...setup({ logger: pino({}, bare.stream) }), logs: bare },
    ]) {
      await http()
        .get('/nodes/x1')
        .set('Authorization', 'Bearer CANARY.TOKEN.SIG')
        .set('Cookie', 'sid=CANARYCOOKIE')
        .set('Proxy-Authorization', 'Basic CANARYPROXY')
        .set('X-Api-Key', 'CANARYKEY')
        .set('X-Forwarded-Access-Token', 'CANARYFWD')
        .expect(401)
      expect(logs.requests()).toHaveLength(1)
      expect(logs.requests()[0]).toMatchObject({
        req: { headers: { authorization: '[Redacted]', cookie: '[Redacted]' } },
        reason: 'malformed_jws',
      })
      expectNoLeak(logs, ['CANARY'])
    }
  })

  it('I2: token-like query parameters and token-shaped values are masked in url and query', async () => {
    const { logs, http } = setup()
    const jwt = await client()
    await http()
      .get(`/nodes/x1?access_token=CANARYQ&code=CANARYC&client_secret=CANARYS&page=2&x=${jwt}`)
      .expect(401)
    await http().get(`/public/${jwt}?Access_Token=CANARYU`).expect(401)
    const [first, second] = logs.requests()
    // A token in the query string is not a credential (RFC 6750 §2.3 is off): no token was sent.
    expect(first).toMatchObject({ reason: 'missing_token', actor_type: 'anonymous' })
    expect((first?.req as { url: string }).url).toBe(
      '/nodes/x1?access_token=[Redacted]&code=[Redacted]&client_secret=[Redacted]&page=2&x=[Redacted]',
    )
    expect((second?.req as { url: string }).url).toBe('/public/[Redacted]?Access_Token=[Redacted]')
    expectNoLeak(logs, ['CANARY', ...secretsOf(jwt)])
  })

  it('R8: forwarded, gateway, DPoP, CSRF and vendor credential headers are masked on request lines, with either logger', async () => {
    const bare = captureLogs()
    const canaries = {
      'X-Forwarded-Authorization': 'Bearer CANARYXFA',
      'X-Amzn-Oidc-Accesstoken': 'CANARYALB',
      'X-Auth-Request-Access-Token': 'CANARYO2P',
      DPoP: 'CANARYDPOP',
      'X-CSRF-Token': 'CANARYCSRF',
      'Api-Key': 'CANARYAZ',
      'X-Vault-Token': 'hvs.CANARYVAULT',
    }
    for (const { logs, http } of [
      setup(),
      { ...setup({ logger: pino({}, bare.stream) }), logs: bare },
    ]) {
      await http().get('/nodes/x1').set(canaries).expect(401)
      const headers = (logs.requests()[0]?.req as { headers: Record<string, unknown> }).headers
      for (const name of Object.keys(canaries))
        expect(headers[name.toLowerCase()], name).toBe('[Redacted]')
      expect(headers.host).toMatch(/^127\.0\.0\.1:/)
      expectNoLeak(logs, ['CANARY'])
    }
  })

  it('R8: array, indexed, nested and percent-encoded token parameter names are masked in url and query', async () => {
    const { logs, http } = setup()
    const query = [
      'access_token[]=CANARY1',
      'access_token[0]=CANARY2',
      'ACCESS_TOKEN[x][]=CANARY3',
      'access%5Ftoken=CANARY4',
      'access_token%5B%5D=CANARY5',
      'client_secret%5b0%5d=CANARY6',
      'user[password]=CANARY7',
      'refresh_token[]=CANARY8',
      'page=2',
      'page[]=3',
    ].join('&')
    await http().get(`/nodes/x1?${query}`).expect(401)
    expect((logs.requests()[0]?.req as { url: string }).url).toBe(
      '/nodes/x1?access_token[]=[Redacted]&access_token[0]=[Redacted]&ACCESS_TOKEN[x][]=[Redacted]' +
        '&access%5Ftoken=[Redacted]&access_token%5B%5D=[Redacted]&client_secret%5b0%5d=[Redacted]' +
        '&user[password]=[Redacted]&refresh_token[]=[Redacted]&page=2&page[]=3',
    )
    expectNoLeak(logs, ['CANARY'])
  })

  it('R8: audit details and handler log lines that carry headers are masked by the same list', async () => {
    const { logs, http } = setup()
    await http()
      .post('/echo-headers')
      .set('Authorization', 'Basic CANARYBASIC')
      .set('Cookie', 'sid=CANARYCOOKIE')
      .set('X-Forwarded-Authorization', 'Bearer CANARYXFA')
      .set('DPoP', 'CANARYDPOP')
      .set('X-Request-Id', 'req-42')
      .expect(204)
    const [audit] = logs.audits()
    expect(audit).toMatchObject({
      event: 'headers_seen',
      target: 'x1',
      headers: {
        authorization: '[Redacted]',
        cookie: '[Redacted]',
        'x-forwarded-authorization': '[Redacted]',
        dpop: '[Redacted]',
        'x-request-id': 'req-42',
      },
    })
    const handlerLine = logs.lines.find((l) => l.msg === 'handler saw headers')
    expect(handlerLine?.headers).toMatchObject({
      authorization: '[Redacted]',
      'x-forwarded-authorization': '[Redacted]',
      dpop: '[Redacted]',
      'x-request-id': 'req-42',
    })
    expectNoLeak(logs, ['CANARY'])
  })

  it('I4: a forged token attributes nothing, even with an attractive sub', async () => {
    const { logs, http } = setup()
    const forged = await issuer.forgeClientToken({
      clientId: 'victim',
      audience: ['smd'],
      claims: { sub: 'victim' },
    })
    await http().get('/nodes/x1').set('Authorization', `Bearer ${forged}`).expect(401)
    expect(logs.requests()[0]).toMatchObject({
      event: 'auth.rejected',
      actor_type: 'anonymous',
      reason: 'signature_invalid',
      level: LEVEL.warn,
    })
    expect(logs.raw.join('')).not.toContain('victim')
  })

  it('I5: a long or hostile sub is one JSON line, cut to 256 characters and marked', async () => {
    const { logs, http } = setup()
    const hostile = [
      'a'.repeat(5000), // as long as the 8 KiB token limit allows; 100 KB is a unit test
      'x\n{"level":60,"msg":"fake"}',
      'x\u001b[31mred',
      'x\u2028y\u2029z',
    ]
    for (const sub of hostile) {
      const token = await issuer.mintUserToken({
        sub,
        clientId: 'ochami-cli',
        scope: ['smd.read'],
        audience: ['smd'],
      })
      await http().get('/nodes/x1').set('Authorization', `Bearer ${token}`).expect(200)
    }
    expect(logs.raw).toHaveLength(hostile.length)
    for (const raw of logs.raw) {
      expect(raw.endsWith('\n')).toBe(true)
      // eslint-disable-next-line no-control-regex
      expect(raw.slice(0, -1)).not.toMatch(/[\n\r\u001b\u2028\u2029]/)
    }
    const [huge, injected, ansi, separators] = logs.requests()
    expect(huge).toMatchObject({ sub: 'a'.repeat(256), actor_id: 'a'.repeat(256), truncated: true })
    expect(injected?.sub).toBe('x\uFFFD{"level":60,"msg":"fake"}')
    expect(ansi?.sub).toBe('x\uFFFD[31mred')
    expect(separators?.sub).toBe('x\uFFFDy\uFFFDz')
    expect(injected).not.toHaveProperty('truncated')
    expect(logs.lines.filter((l) => l.level === 60)).toHaveLength(0)
  })

  it('I6: levels by outcome; an unknown-kid storm makes warn lines, never error lines', async () => {
    const { logs, http } = setup()
    await http()
      .get('/nodes/x1')
      .set('Authorization', `Bearer ${await client([])}`)
      .expect(403)
    const storm = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const token = await issuer.mintClientToken({
          clientId: 'bss',
          audience: ['smd'],
          header: { kid: `unknown-${i}` },
        })
        return http().get('/nodes/x1').set('Authorization', `Bearer ${token}`)
      }),
    )
    expect(storm.every((r) => r.status === 401)).toBe(true)
    const lines = logs.requests()
    expect(lines).toHaveLength(51)
    expect(lines[0]).toMatchObject({ reason: 'insufficient_scope', level: LEVEL.warn })
    expect(
      lines.slice(1).every((l) => l.reason === 'key_not_found' && l.level === LEVEL.warn),
    ).toBe(true)
    expect(logs.lines.filter((l) => l.level >= LEVEL.error)).toHaveLength(0)
  })

  it('I6: an issuer outage logs one error line per interval; the rest are warn and counted', async () => {
    outage.setJwksMode('fail')
    try {
      const { logs, http } = setup({ errorInterval: 200 }, outage)
      const token = await outage.mintClientToken({ clientId: 'bss', audience: ['smd'] })
      for (let i = 0; i < 5; i++)
        await http().get('/nodes/x1').set('Authorization', `Bearer ${token}`).expect(503)
      await new Promise((resolve) => setTimeout(resolve, 250))
      await http().get('/nodes/x1').set('Authorization', `Bearer ${token}`).expect(503)
      const lines = logs.requests()
      expect(lines.map((l) => l.level)).toEqual([
        LEVEL.error,
        LEVEL.warn,
        LEVEL.warn,
        LEVEL.warn,
        LEVEL.warn,
        LEVEL.error,
      ])
      expect(lines.every((l) => l.reason === 'jwks_unavailable')).toBe(true)
      expect(lines[1]).toMatchObject({ rate_limited: true })
      expect(lines[5]).toMatchObject({ suppressed: 4 })
      expect(lines[0]).not.toHaveProperty('err')
    } finally {
      outage.setJwksMode('ok')
    }
  })
})

describe('audit events outside a request', () => {
  it('a worker audits as its own client id, the shape from DESIGN', () => {
    const logs = captureLogs()
    const logger = pino({ base: null, timestamp: false }, logs.stream)
    auditEvent(logger, 'invoice_paid', { target: 'user-123' }, { clientId: 'billing-worker' })
    expect(logs.raw[0]).toBe(
      '{"level":30,"actor_type":"client","actor_id":"billing-worker","sub":"billing-worker","client_id":"billing-worker","event":"invoice_paid","target":"user-123","msg":"audit"}\n',
    )
  })

  it('R8: details keyed like credential headers are masked at any depth, extra names included; cycles do not throw', async () => {
    const logs = captureLogs()
    const jwt = await client()
    const details: Record<string, unknown> = {
      target: 'x1',
      'X-Api-Key': 'CANARYKEY',
      upstream: { request: { headers: { 'x-forwarded-authorization': 'Bearer CANARYXFA' } } },
      attempts: [{ cookie: 'sid=CANARYCOOKIE', status: 401 }],
      note: `retried with ${jwt}`,
      'x-tenant-secret': 'CANARYTENANT',
      code: 'INV-7',
      at: new Date(0),
    }
    details.self = details
    auditEvent(pino({}, logs.stream), 'token_retried', details, { clientId: 'bss' })
    const audit = createAuditLogger({ stream: logs.stream, redactHeaders: ['X-Tenant-Secret'] })
    audit.eventAs({ clientId: 'bss' }, 'token_retried', details)
    const [plain, configured] = logs.audits()
    const masked = {
      target: 'x1',
      'X-Api-Key': '[Redacted]',
      upstream: { request: { headers: { 'x-forwarded-authorization': '[Redacted]' } } },
      attempts: [{ cookie: '[Redacted]', status: 401 }],
      note: 'retried with [Redacted]',
      code: 'INV-7',
      at: '1970-01-01T00:00:00.000Z',
      self: '[Circular]',
    }
    expect(plain).toMatchObject({ ...masked, 'x-tenant-secret': 'CANARYTENANT' })
    expect(configured).toMatchObject({ ...masked, 'x-tenant-secret': '[Redacted]' })
    const [plainText = '', configuredText = ''] = logs.raw
    for (const secret of ['CANARYKEY', 'CANARYXFA', 'CANARYCOOKIE', ...secretsOf(jwt)]) {
      expect(plainText).not.toContain(secret)
      expect(configuredText).not.toContain(secret)
    }
    expect(configuredText).not.toContain('CANARYTENANT')
  })

  it('refuses an event name that is not a short identifier', () => {
    const logger = pino({}, captureLogs().stream)
    for (const bad of ['', 'a b', 'x\ny', 'e'.repeat(129)])
      expect(() => {
        auditEvent(logger, bad)
      }).toThrow(typeError(/the event name must be 1-128 letters, digits, or \. : _ -/))
    expect(() => {
      auditEvent(logger, 'ok', {}, { clientId: '' })
    }).toThrow(typeError(/a service identity needs a clientId/))
  })
})

describe('without an adapter', () => {
  it('pino-http with auditHttpOptions masks credentials on a plain Node server', async () => {
    const logs = captureLogs()
    const log = pinoHttp(auditHttpOptions({ stream: logs.stream }))
    const server = createServer((req, res) => {
      log(req, res)
      res.end('ok')
    })
    await request(server)
      .get('/x?token=CANARYT')
      .set('Authorization', 'Bearer CANARY.A.B')
      .expect(200)
    expect(logs.requests()[0]).toMatchObject({
      actor_type: 'anonymous',
      outcome: 'none',
      req: { url: '/x?token=[Redacted]', headers: { authorization: '[Redacted]' } },
    })
    expectNoLeak(logs, ['CANARY'])
  })

  it('eventAs attributes to the principal of the current request context', async () => {
    const logs = captureLogs()
    const audit = createAuditLogger({ stream: logs.stream })
    const authenticator = createAuthenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      jwksUri: issuer.jwksUri,
    })
    closers.push(() => {
      authenticator.close()
    })
    const principal = await authenticator.verify(await user())
    runWithPrincipal(principal, () => {
      audit.eventAs(undefined, 'node_booted', { target: 'x3000c0s1b0n0' })
    })
    audit.eventAs(undefined, 'cron_ran')
    expect(logs.audits()).toEqual([
      expect.objectContaining({ actor_type: 'user', actor_id: 'alice', event: 'node_booted' }),
      expect.objectContaining({ actor_type: 'anonymous', actor_id: null, event: 'cron_ran' }),
    ])
  })
})
