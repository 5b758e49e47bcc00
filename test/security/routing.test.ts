/**
 * Routing cases on both adapters (catalogue A11, A12, H4, H5, H6): CORS preflights, HEAD on a
 * guarded GET route, optional authentication never downgrading a bad token, path tricks around
 * a public route (sent raw, as curl --path-as-is would), and a route inventory of the example
 * services that fails CI when a route is added without authentication.
 */
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServiceClient } from '@svcauth/client'
import { createBssApp } from '@svcauth/example-bss'
import { createSmdApp } from '@svcauth/example-smd'
import * as ex from '@svcauth/express'
import * as ko from '@svcauth/koa'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import Router from '@koa/router'
import express from 'express'
import Koa from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawRequest } from '../support/raw-request.js'

let issuer: TestIssuer
const closers: (() => Promise<void> | void)[] = []
const apps: { name: string; port: number; adminRuns: () => number }[] = []

const options = (extra: Record<string, unknown> = {}) => ({
  issuer: issuer.issuer,
  audience: 'smd',
  jwksUri: issuer.jwksUri,
  ...extra,
})

/** A preflight answered by a CORS layer mounted before authenticate(), as the README says. */
function isPreflight(method: string, headers: Record<string, unknown>): boolean {
  return method === 'OPTIONS' && headers['access-control-request-method'] !== undefined
}

function expressApp(count: () => void): RequestListener {
  const app = express()
  app.use((req, res, next) => {
    if (!isPreflight(req.method, req.headers)) {
      next()
      return
    }
    res.set('access-control-allow-headers', 'authorization').status(204).end()
  })
  app.get('/health', (_req, res) => {
    res.json({ ok: true })
  })
  const optional = ex.authenticate(options({ optional: true }))
  app.get('/maybe', optional, (req, res) => {
    res.json({ who: req.auth?.actorId ?? 'anonymous' })
  })
  const auth = ex.authenticate(options())
  closers.push(
    () => {
      auth.authenticator.close()
    },
    () => {
      optional.authenticator.close()
    },
  )
  app.use(auth)
  app.get('/admin', ex.requireScopes('smd.read'), (_req, res) => {
    count()
    res.json({ admin: true })
  })
  return app
}

function koaApp(count: () => void): RequestListener {
  const app = new Koa<ko.AuthState>()
  app.use(async (ctx, next) => {
    if (!isPreflight(ctx.method, ctx.headers)) {
      await next()
      return
    }
    ctx.set('access-control-allow-headers', 'authorization')
    ctx.status = 204
  })
  const open = new Router<ko.AuthState>()
  open.get('/health', (ctx) => {
    ctx.body = { ok: true }
  })
  const optional = ko.authenticate(options({ optional: true }))
  open.get('/maybe', optional, (ctx) => {
    ctx.body = { who: ctx.state.auth?.actorId ?? 'anonymous' }
  })
  app.use(open.routes())
  const auth = ko.authenticate(options())
  closers.push(
    () => {
      auth.authenticator.close()
    },
    () => {
      optional.authenticator.close()
    },
  )
  app.use(auth)
  const router = new Router<ko.AuthState>()
  router.get('/admin', ko.requireScopes('smd.read'), (ctx) => {
    count()
    ctx.body = { admin: true }
  })
  app.use(router.routes())
  const callback = app.callback()
  return (req, res) => {
    void callback(req, res)
  }
}

beforeAll(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  for (const [name, build] of [
    ['Express', expressApp],
    ['Koa', koaApp],
  ] as const) {
    let runs = 0
    const server: Server = createServer(build(() => runs++))
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
    apps.push({ name, port: (server.address() as AddressInfo).port, adminRuns: () => runs })
  }
})
afterAll(async () => {
  for (const close of closers.splice(0)) await close()
  await issuer.close()
})

const send = (port: number, method: string, path: string, headers: string[] = []) =>
  rawRequest(port, [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headers])

describe.each(['Express', 'Koa'])('%s', (name) => {
  const app = () => apps.find((a) => a.name === name)!

  it('A11: a CORS preflight is answered by CORS (204) without the handler; GET without a token is 401', async () => {
    const before = app().adminRuns()
    const preflight = await send(app().port, 'OPTIONS', '/admin', [
      'Origin: http://ui.example',
      'Access-Control-Request-Method: GET',
      'Access-Control-Request-Headers: authorization',
    ])
    expect(preflight.status).toBe(204)
    const get = await send(app().port, 'GET', '/admin')
    expect(get.status).toBe(401)
    expect(get.headers['www-authenticate']).toBe('Bearer realm="api"')
    expect(app().adminRuns()).toBe(before)
  })

  it('A12: HEAD on a guarded GET route gets the same 401 and 403 as GET', async () => {
    const noScope = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    for (const method of ['GET', 'HEAD']) {
      expect((await send(app().port, method, '/admin')).status).toBe(401)
      const forbidden = await send(app().port, method, '/admin', [
        `Authorization: Bearer ${noScope}`,
      ])
      expect(forbidden.status).toBe(403)
      expect(forbidden.headers['www-authenticate']).toContain('error="insufficient_scope"')
    }
  })

  it('H4: optional authentication: no token is anonymous; an expired or forged token is still 401', async () => {
    const none = await send(app().port, 'GET', '/maybe')
    expect(none.status).toBe(200)
    expect(JSON.parse(none.body)).toEqual({ who: 'anonymous' })
    const expired = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], ttl: -120 })
    const forged = await issuer.forgeClientToken({ clientId: 'bss', audience: ['smd'] })
    for (const bad of [expired, forged]) {
      const res = await send(app().port, 'GET', '/maybe', [`Authorization: Bearer ${bad}`])
      expect(res.status).toBe(401)
    }
    const good = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
    const res = await send(app().port, 'GET', '/maybe', [`Authorization: Bearer ${good}`])
    expect(JSON.parse(res.body)).toEqual({ who: 'bss' })
  })

  it('H5: path tricks around the public /health never reach the protected handler without a token', async () => {
    const before = app().adminRuns()
    for (const path of [
      '/health/../admin',
      '/health/%2e%2e/admin',
      '/health%2F..%2Fadmin',
      '/HEALTH/../ADMIN',
      '/health/',
      '/healthz-admin',
      '/health;x',
      '//admin',
      '/./admin',
      '/ADMIN',
      '/admin/',
    ]) {
      const res = await send(app().port, 'GET', path)
      expect([401, 404, 400, 200], path).toContain(res.status)
      if (res.status === 200) expect(JSON.parse(res.body), path).toEqual({ ok: true })
    }
    expect(app().adminRuns()).toBe(before)
  })
})

describe('H6: route inventory of the example services', () => {
  it('SMD (Express): every route is public by name or comes after authenticate()', () => {
    const smd = createSmdApp({
      auth: { issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri },
    })
    closers.push(() => {
      smd.close()
    })
    const PUBLIC = new Set(['/service/ready'])
    interface Layer {
      name: string
      route?: { path: string }
      handle: { stack?: Layer[] }
    }
    const routes: { path: string; guarded: boolean }[] = []
    const walk = (stack: Layer[], guarded: boolean): void => {
      for (const layer of stack) {
        if (layer.name === 'authenticate') guarded = true
        if (layer.route !== undefined) routes.push({ path: layer.route.path, guarded })
        else if (layer.handle.stack !== undefined) walk(layer.handle.stack, guarded)
      }
    }
    walk((smd.app as unknown as { router: { stack: Layer[] } }).router.stack, false)
    expect(routes.length).toBe(7)
    const unguarded = routes.filter((r) => !r.guarded && !PUBLIC.has(r.path))
    expect(unguarded).toEqual([])
  })

  it('BSS (Koa): every route is public by name or sits behind an authenticate() layer', () => {
    const svc = createServiceClient({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId: 'bss',
      clientSecret: 's',
      targets: { 'http://127.0.0.1:9': {} },
    })
    const bss = createBssApp({
      auth: { issuer: issuer.issuer, audience: 'bss', jwksUri: issuer.jwksUri },
      smdUrl: 'http://127.0.0.1:9',
      svc,
    })
    closers.push(
      () => {
        bss.close()
      },
      () => svc.close(),
    )
    const PUBLIC = new Set(['/boot/v1/bootscript'])
    interface KoaLayer {
      path: string
      methods: string[]
      stack: { name: string }[]
      match(path: string): boolean
    }
    const routers = (bss.app.middleware as unknown as { router?: { stack: KoaLayer[] } }[])
      .map((mw) => mw.router)
      .filter((r) => r !== undefined)
    const routes: { path: string; guarded: boolean }[] = []
    for (const router of routers) {
      const guards = router.stack.filter(
        (l) => l.methods.length === 0 && l.stack.some((fn) => fn.name === 'authenticate'),
      )
      for (const layer of router.stack.filter((l) => l.methods.length > 0)) {
        routes.push({ path: layer.path, guarded: guards.some((g) => g.match(layer.path)) })
      }
    }
    expect(routes.length).toBeGreaterThanOrEqual(6)
    expect(routes.filter((r) => !r.guarded && !PUBLIC.has(r.path))).toEqual([])
  })
})
