/**
 * What only the Express adapter does, on Express 5 and Express 4: handing errors to `next(err)`
 * with `respond: false`, and running the rest of the request inside the auth context. Statuses,
 * challenges and bodies for every input (guards, HEAD, optional authentication, JWKS outages) are
 * the conformance table's (test/conformance), which runs the same requests against Express 5,
 * Express 4, Koa 3 and Koa 2.
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
} from '@svcauth/express'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import express5 from 'express'
import type { ErrorRequestHandler, Express } from 'express'
import express4 from 'express4'
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

const versions = [
  ['Express 5', express5],
  ['Express 4', express4],
] as const

describe.each(versions)('%s', (_name, express) => {
  function app(overrides: Partial<AuthenticateOptions> = {}): Express {
    const a = express()
    const auth = authenticate({
      issuer: issuer.issuer,
      audience: 'smd',
      jwksUri: issuer.jwksUri,
      ...overrides,
    })
    closers.push(() => {
      auth.authenticator.close()
    })
    a.use(auth)
    a.get('/State/Components', requireScopes('smd.read'), (_req, res) => {
      res.json({ ok: true })
    })
    a.get('/context', async (req, res) => {
      await sleep(1)
      const principal = currentAuthContext()?.principal
      res.json({
        same: principal === req.auth,
        actorId: principal?.actorId,
        rawTokenMatches:
          req.auth !== undefined && rawToken(req.auth) === req.get('authorization')?.slice(7),
        serialized: JSON.stringify(req.auth),
        frozen: Object.isFrozen(req.auth),
      })
    })
    return a
  }

  const clientToken = (scope: string[] = ['smd.read']) =>
    issuer.mintClientToken({ clientId: 'bss', scope, audience: ['smd'] })

  it('hands errors to next(err) when respond is false', async () => {
    const a = app({ respond: false })
    const handler: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
      res.status(418).json({
        handled: isAuthError(err),
        code: isAuthError(err) ? err.code : null,
        status: isAuthError(err) ? err.status : null,
      })
    }
    a.use(handler)
    const res = await request(a).get('/State/Components')
    expect(res.body).toEqual({ handled: true, code: 'unauthorized', status: 401 })
    const weak = await clientToken(['x'])
    const res403 = await request(a).get('/State/Components').set('Authorization', `Bearer ${weak}`)
    expect(res403.body).toEqual({ handled: true, code: 'insufficient_scope', status: 403 })
  })

  it('runs the rest of the request inside the auth context, with the raw token hidden', async () => {
    // Nothing in this app builds a context reader: turned on as at start-up (issue 17).
    enableRequestContext()
    const token = await clientToken()
    const a = app()
    // The first request verifies the token; the second is a cache hit (the synchronous path).
    for (let i = 0; i < 2; i++) {
      const res = await request(a).get('/context').set('Authorization', `Bearer ${token}`)
      expect(res.status).toBe(200)
      expect(res.body.same).toBe(true)
      expect(res.body.actorId).toBe('bss')
      expect(res.body.rawTokenMatches).toBe(true)
      expect(res.body.frozen).toBe(true)
      expect(res.body.serialized).not.toContain(token)
      expect(res.body.serialized).not.toContain(token.split('.')[2])
    }
  })

  it('req.auth reads the verified caller without a property added to each request (issue 17), and still behaves as a property', async () => {
    const token = await clientToken()
    const auth = authenticate({ issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri })
    closers.push(() => {
      auth.authenticator.close()
    })
    const a = express()
    // Another middleware's req.auth before svcauth's is replaced by svcauth's principal.
    a.use('/other', (req, _res, next) => {
      req.auth = { actorId: 'someone-else' } as never
      next()
    })
    a.use(auth)
    a.get(['/read', '/other/read'], (req, res) => {
      res.json({
        actorId: req.auth?.actorId ?? null,
        own: Object.prototype.hasOwnProperty.call(req, 'auth'),
        visible: 'auth' in req,
      })
    })
    a.get('/assign', (req, res) => {
      req.auth = undefined
      const after = (req as { auth?: { actorId?: string } }).auth
      res.json({ actorId: after?.actorId ?? null })
    })
    // A sub-app that authenticates: the parent's later handlers see the caller too.
    const sub = express()
    sub.use(auth)
    const parent = express()
    parent.use('/sub', sub)
    parent.get('/sub/after', (req, res) => {
      res.json({ actorId: req.auth?.actorId ?? null })
    })
    parent.get('/anonymous', (req, res) => {
      res.json({ actorId: req.auth?.actorId ?? null })
    })
    for (let i = 0; i < 2; i++) {
      const read = await request(a).get('/read').set('Authorization', `Bearer ${token}`)
      expect(read.body).toEqual({ actorId: 'bss', own: false, visible: true })
      const other = await request(a).get('/other/read').set('Authorization', `Bearer ${token}`)
      expect(other.body).toMatchObject({ actorId: 'bss', own: true })
      const assigned = await request(a).get('/assign').set('Authorization', `Bearer ${token}`)
      expect(assigned.body).toEqual({ actorId: null })
      const after = await request(parent).get('/sub/after').set('Authorization', `Bearer ${token}`)
      expect(after.body).toEqual({ actorId: 'bss' })
    }
    // Requests that never met authenticate() have no caller.
    expect((await request(parent).get('/anonymous')).body).toEqual({ actorId: null })
    const refused = await request(a).get('/read').set('Authorization', 'Bearer x.y.z')
    expect(refused.status).toBe(401)
  })
})
