/**
 * The Koa adapter beyond the conformance table, on Koa 3 and Koa 2: errors thrown into the app's
 * own handling (`respond: false`), Koa's default error handler, plain `app.use` guards, the request
 * context, and the typed `ctx.state.auth`.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  authenticate,
  currentAuthContext,
  enableRequestContext,
  isAuthError,
  rawToken,
  requireScopes,
  type AuthenticateOptions,
  type AuthState,
} from '@svcauth/koa'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import Koa3 from 'koa'
import Koa2 from 'koa2'
import request from 'supertest'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

let issuer: TestIssuer
const closers: (() => void)[] = []

beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})
afterEach(() => {
  for (const close of closers.splice(0)) close()
})

describe.each([
  ['Koa 3', Koa3],
  ['Koa 2', Koa2],
] as const)('%s', (_name, Koa) => {
  function auth(extra: Partial<AuthenticateOptions> = {}) {
    const mw = authenticate({
      issuer: issuer.issuer,
      audience: 'smd',
      jwksUri: issuer.jwksUri,
      ...extra,
    })
    closers.push(() => {
      mw.authenticator.close()
    })
    return mw
  }

  const token = (scope: string[]) =>
    issuer.mintClientToken({ clientId: 'bss', scope, audience: ['smd'] })

  it("throws into the app's error handling with respond: false", async () => {
    const app = new Koa<AuthState>()
    app.use(async (ctx, next) => {
      try {
        await next()
      } catch (err) {
        ctx.status = 418
        ctx.body = isAuthError(err)
          ? { code: err.code, reason: err.reason, status: err.status }
          : null
      }
    })
    app.use(auth({ respond: false }))
    app.use(requireScopes('smd.read'))
    app.use((ctx) => {
      ctx.body = { ok: true }
    })
    const none = await request(app.callback()).get('/')
    expect(none.status).toBe(418)
    expect(none.body).toEqual({ code: 'unauthorized', reason: 'missing_token', status: 401 })
    const weak = await request(app.callback())
      .get('/')
      .set('Authorization', `Bearer ${await token([])}`)
    expect(weak.body).toEqual({
      code: 'insufficient_scope',
      reason: 'insufficient_scope',
      status: 403,
    })
  })

  it("lets Koa's default error handler answer with the status and challenge", async () => {
    const app = new Koa<AuthState>()
    app.silent = true
    app.use(auth({ respond: false }))
    app.use((ctx) => {
      ctx.body = { ok: true }
    })
    const res = await request(app.callback()).get('/').set('Authorization', 'Bearer a.b.c')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The access token is malformed"',
    )
    expect(res.text).toBe('The access token is malformed')
  })

  it('guards plain app.use chains and sets a typed ctx.state.auth', async () => {
    const app = new Koa<AuthState>()
    app.use(auth())
    app.use(requireScopes('smd.read'))
    app.use((ctx) => {
      ctx.body = { actorId: ctx.state.auth?.actorId, actorType: ctx.state.auth?.actorType }
    })
    const res = await request(app.callback())
      .get('/')
      .set('Authorization', `Bearer ${await token(['smd.read'])}`)
    expect(res.body).toEqual({ actorId: 'bss', actorType: 'client' })
    const weak = await request(app.callback())
      .get('/')
      .set('Authorization', `Bearer ${await token([])}`)
    expect(weak.status).toBe(403)
    expect(weak.body).toEqual({
      error: 'insufficient_scope',
      error_description: 'The access token lacks a required scope',
    })
  })

  it('runs the rest of the request inside the auth context, with the raw token hidden', async () => {
    // Nothing in this app builds a context reader: turned on as at start-up (issue 17).
    enableRequestContext()
    const app = new Koa<AuthState>()
    app.use(auth())
    app.use(async (ctx) => {
      await sleep(1)
      const principal = currentAuthContext()?.principal
      ctx.body = {
        same: principal === ctx.state.auth,
        raw:
          principal === undefined
            ? null
            : rawToken(principal) === ctx.get('authorization').slice(7),
        serialized: JSON.stringify(ctx.state.auth),
      }
    })
    const t = await token(['smd.read'])
    // The first request verifies the token; the second is a cache hit (the synchronous path).
    for (let i = 0; i < 2; i++) {
      const res = await request(app.callback()).get('/').set('Authorization', `Bearer ${t}`)
      expect(res.body.same).toBe(true)
      expect(res.body.raw).toBe(true)
      expect(res.body.serialized).not.toContain(t.split('.')[2])
    }
  })
})
