/**
 * Issue 17, item 1: the request context is on when something reads it. On Node 20 and 22 an
 * AsyncLocalStorage scope makes every promise of the process run a hook, so the adapters enter it
 * only once the context is on: turned on when a reader is built (a service client with a user-token
 * target, the audit logger), by `enableRequestContext()`, or by the first `currentAuthContext()`
 * call, which warns when requests were already served without it. Each test starts from a fresh
 * copy of the packages and of the process-wide switch (it is sticky, as in a real process).
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type * as AuditPackage from '@svcauth/audit'
import type * as ClientPackage from '@svcauth/client'
import type * as CorePackage from '@svcauth/core'
import type * as CoreInternal from '@svcauth/core/internal'
import type * as ExpressPackage from '@svcauth/express'
import type * as KoaPackage from '@svcauth/koa'
import type { AuthState } from '@svcauth/koa'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import express from 'express'
import Koa from 'koa'
import request from 'supertest'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'

type Core = typeof CorePackage
type Internal = typeof CoreInternal
type ExpressAdapter = typeof ExpressPackage
type KoaAdapter = typeof KoaPackage
type Client = typeof ClientPackage
type Audit = typeof AuditPackage

interface Fresh {
  readonly core: Core
  readonly internal: Internal
  readonly express: ExpressAdapter
  readonly koa: KoaAdapter
  readonly client: Client
  readonly audit: Audit
}

/** The packages as a new process loads them: a new module graph and no switch on globalThis. */
async function fresh(): Promise<Fresh> {
  Reflect.deleteProperty(globalThis, Symbol.for('svcauth.authContext.v3'))
  vi.resetModules()
  return {
    core: await import('@svcauth/core'),
    internal: await import('@svcauth/core/internal'),
    express: await import('@svcauth/express'),
    koa: await import('@svcauth/koa'),
    client: await import('@svcauth/client'),
    audit: await import('@svcauth/audit'),
  }
}

const warnings: { code: string | undefined; message: string }[] = []
const onWarning = (w: Error & { code?: string }): void => {
  if (w.code?.startsWith('SVCAUTH_') === true) warnings.push({ code: w.code, message: w.message })
}
// Node emits 'warning' on the next tick after emitWarning.
const settle = () => new Promise((resolve) => setImmediate(resolve))

let issuer: TestIssuer
let token: string
const closers: (() => unknown)[] = []
beforeAll(async () => {
  process.on('warning', onWarning)
  issuer = await createTestIssuer({ keyCount: 1 })
  token = await issuer.mintClientToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'] })
})
afterAll(async () => {
  process.off('warning', onWarning)
  await issuer.close()
})
beforeEach(() => {
  warnings.length = 0
})
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

const options = () => ({ issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri })

/** An Express app whose route reports what `currentAuthContext()` says after an await. */
function expressApp(pkgs: Fresh): express.Express {
  const auth = pkgs.express.authenticate(options())
  closers.push(() => {
    auth.authenticator.close()
  })
  const app = express()
  app.use(auth)
  app.get('/who', pkgs.express.requireScopes('smd.read'), async (req, res) => {
    await new Promise((resolve) => setImmediate(resolve))
    const seen = pkgs.core.currentAuthContext()?.principal
    res.json({ auth: req.auth?.actorId ?? null, context: seen?.actorId ?? null })
  })
  app.get('/plain', pkgs.express.requireScopes('smd.read'), (req, res) => {
    res.json({ auth: req.auth?.actorId ?? null })
  })
  return app
}

/** The same on Koa. */
function koaApp(pkgs: Fresh): Koa {
  const auth = pkgs.koa.authenticate(options())
  closers.push(() => {
    auth.authenticator.close()
  })
  const app = new Koa<AuthState>()
  app.use(auth).use(pkgs.koa.requireScopes('smd.read'))
  app.use(async (ctx) => {
    await new Promise((resolve) => setImmediate(resolve))
    const who = ctx.path === '/who' ? pkgs.core.currentAuthContext()?.principal : undefined
    ctx.body = { auth: ctx.state.auth?.actorId ?? null, context: who?.actorId ?? null }
  })
  return app
}

const adapters = [
  ['Express', (p: Fresh) => expressApp(p)],
  ['Koa', (p: Fresh) => koaApp(p).callback()],
] as const

describe.each(adapters)('the request context on demand (issue 17), %s', (_name, build) => {
  it('stays off while nothing reads it: authenticated, guarded requests (verified and cached) leave it off', async () => {
    const pkgs = await fresh()
    const app = build(pkgs)
    for (let i = 0; i < 3; i++) {
      const res = await request(app).get('/plain').set('Authorization', `Bearer ${token}`)
      expect(res.status).toBe(200)
      expect(res.body.auth).toBe('bss')
    }
    expect(pkgs.internal.requestContextEnabled()).toBe(false)
    await settle()
    expect(warnings).toEqual([])
  })

  it('enableRequestContext() at start-up: every request, the first included, sees its caller after an await', async () => {
    const pkgs = await fresh()
    pkgs.core.enableRequestContext()
    const app = build(pkgs)
    for (let i = 0; i < 2; i++) {
      const res = await request(app).get('/who').set('Authorization', `Bearer ${token}`)
      expect(res.body).toEqual({ auth: 'bss', context: 'bss' })
    }
    await settle()
    expect(warnings).toEqual([])
  })

  it('turned on late by the first currentAuthContext() call: SVCAUTH_REQUEST_CONTEXT_LATE once, and the requests after it see their caller', async () => {
    const pkgs = await fresh()
    const app = build(pkgs)
    const first = await request(app).get('/who').set('Authorization', `Bearer ${token}`)
    // That request was already running without the context when its handler first asked.
    expect(first.body).toEqual({ auth: 'bss', context: null })
    expect(pkgs.internal.requestContextEnabled()).toBe(true)
    for (let i = 0; i < 2; i++) {
      const res = await request(app).get('/who').set('Authorization', `Bearer ${token}`)
      expect(res.body).toEqual({ auth: 'bss', context: 'bss' })
    }
    await settle()
    expect(warnings.map((w) => w.code)).toEqual(['SVCAUTH_REQUEST_CONTEXT_LATE'])
    expect(warnings[0]?.message).toContain('enableRequestContext()')
    expect(warnings[0]?.message).not.toContain(token.split('.')[2] ?? '')
  })
})

describe('what turns the request context on when built (issue 17)', () => {
  it('a service client with a forward or exchange target does, one with only never targets does not', async () => {
    let pkgs = await fresh()
    const never = pkgs.client.createServiceClient({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId: 'bss',
      clientSecret: 's3cret',
      targets: { 'http://127.0.0.1:1': { scope: ['smd.read'], audience: 'smd' } },
      allowInsecureHttp: true,
    })
    closers.push(() => never.close())
    expect(pkgs.internal.requestContextEnabled()).toBe(false)
    for (const userToken of ['forward', 'exchange'] as const) {
      pkgs = await fresh()
      const svc = pkgs.client.createServiceClient({
        tokenEndpoint: issuer.tokenEndpoint,
        clientId: 'bss',
        clientSecret: 's3cret',
        targets: { 'http://127.0.0.1:1': { scope: ['smd.read'], audience: 'smd', userToken } },
        allowInsecureHttp: true,
      })
      closers.push(() => svc.close())
      expect(pkgs.internal.requestContextEnabled()).toBe(true)
    }
  })

  it('the audit logger does (its eventAs() names the caller from the context)', async () => {
    const pkgs = await fresh()
    pkgs.audit.createAuditLogger({ level: 'silent' })
    expect(pkgs.internal.requestContextEnabled()).toBe(true)
  })

  it('a user-token target built before serving forwards the first request’s token through svc.fetch, with no warning', async () => {
    const pkgs = await fresh()
    const seen: (string | undefined)[] = []
    const target = createServer((req, res) => {
      seen.push(req.headers.authorization)
      res.end('{}')
    })
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
    closers.push(() => new Promise((resolve) => target.close(resolve)))
    const origin = `http://127.0.0.1:${(target.address() as AddressInfo).port}`
    issuer.addClient({ clientId: 'bss', secrets: ['s3cret'] })
    const svc = pkgs.client.createServiceClient({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId: 'bss',
      clientSecret: 's3cret',
      targets: { [origin]: { scope: ['smd.read'], audience: 'smd', userToken: 'forward' } },
      allowInsecureHttp: true,
    })
    closers.push(() => svc.close())
    const auth = pkgs.express.authenticate(options())
    closers.push(() => {
      auth.authenticator.close()
    })
    const app = express()
    app.use(auth)
    app.get('/call', async (_req, res) => {
      await new Promise((resolve) => setImmediate(resolve))
      const answer = await svc.fetch(`${origin}/hsm/v2/State/Components`)
      res.status(answer.status).end()
    })
    const user = await issuer.mintUserToken({ sub: 'alice', clientId: 'ui', audience: ['smd'] })
    const res = await request(app).get('/call').set('Authorization', `Bearer ${user}`)
    expect(res.status).toBe(200)
    expect(seen).toEqual([`Bearer ${user}`])
    await settle()
    expect(warnings).toEqual([])
  })
})
