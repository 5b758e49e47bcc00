/**
 * The Express adapter end to end, on Express 5 and Express 4: statuses, challenges, bodies,
 * guards (HEAD included), optional authentication, error hand-off, the request context, and the
 * JWKS outage behaviour, against a real issuer on loopback.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  authenticate,
  currentAuthContext,
  isAuthError,
  rawToken,
  requireActor,
  requireAnyScope,
  requireClaim,
  requireScopes,
  type AuthenticateOptions,
} from '@svcauth/express'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import express5 from 'express'
import type { ErrorRequestHandler, Express } from 'express'
import express4 from 'express4'
import request from 'supertest'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { rawRequest } from '../support/raw-request.js'

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
  function app(overrides: Partial<AuthenticateOptions> = {}, mount = true): Express {
    const a = express()
    if (mount) {
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
    }
    a.get('/State/Components', requireScopes('smd.read'), (req, res) => {
      res.json({
        actorType: req.auth?.actorType,
        actorId: req.auth?.actorId,
        clientId: req.auth?.clientId,
        sub: req.auth?.sub,
      })
    })
    a.post('/State/Components', requireScopes('smd.write'), (_req, res) => {
      res.status(201).json({ ok: true })
    })
    a.get('/any', requireAnyScope('smd.read', 'smd.admin'), (_req, res) => {
      res.json({ ok: true })
    })
    a.get('/users-only', requireActor('user'), (_req, res) => {
      res.json({ ok: true })
    })
    a.get(
      '/operators',
      requireClaim('role', (r) => r === 'operator'),
      (_req, res) => {
        res.json({ ok: true })
      },
    )
    a.get('/open', (req, res) => {
      res.json({ anonymous: req.auth === undefined })
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

  const clientToken = (scope: string[] = ['smd.read'], audience: string[] = ['smd']) =>
    issuer.mintClientToken({ clientId: 'bss', scope, audience })

  it('answers a request with no token 401 with a bare challenge and no error attribute', async () => {
    const res = await request(app()).get('/State/Components')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"')
    expect(res.body).toEqual({
      error: 'unauthorized',
      error_description: 'Authentication required',
    })
  })

  it('uses the configured realm in the challenge', async () => {
    const res = await request(app({ realm: 'smd' })).get('/State/Components')
    expect(res.headers['www-authenticate']).toBe('Bearer realm="smd"')
  })

  it('answers a forged token (right kid, attacker key) 401 invalid_token', async () => {
    const forged = await issuer.forgeClientToken({
      clientId: 'bss',
      scope: ['smd.read'],
      audience: ['smd'],
    })
    const res = await request(app())
      .get('/State/Components')
      .set('Authorization', `Bearer ${forged}`)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The access token is invalid"',
    )
    expect(res.body.error).toBe('invalid_token')
    expect(JSON.stringify(res.body)).not.toContain(forged.split('.')[2])
  })

  it('answers a valid token without the scope 403 insufficient_scope naming the scope', async () => {
    const token = await clientToken(['smd.other'])
    const res = await request(app())
      .get('/State/Components')
      .set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(403)
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a required scope", scope="smd.read"',
    )
    expect(res.body.error).toBe('insufficient_scope')
  })

  it('accepts a Hydra-shaped client-credentials token as a client whose actorId is its client_id', async () => {
    const token = await clientToken()
    const res = await request(app())
      .get('/State/Components')
      .set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ actorType: 'client', actorId: 'bss', clientId: 'bss', sub: 'bss' })
  })

  it('accepts a user token as a user whose actorId is its sub', async () => {
    const token = await issuer.mintUserToken({
      sub: 'alice',
      clientId: 'ochami-cli',
      scope: ['smd.read'],
      audience: ['smd'],
    })
    const res = await request(app())
      .get('/State/Components')
      .set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      actorType: 'user',
      actorId: 'alice',
      clientId: 'ochami-cli',
      sub: 'alice',
    })
  })

  it("rejects Hydra's default aud: [] when an audience is configured", async () => {
    const token = await clientToken(['smd.read'], [])
    const res = await request(app())
      .get('/State/Components')
      .set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(401)
    expect(res.body.error).toBe('invalid_token')
  })

  it('guards HEAD on a guarded GET route like GET', async () => {
    const a = app()
    const none = await request(a).head('/State/Components')
    expect(none.status).toBe(401)
    expect(none.headers['www-authenticate']).toBe('Bearer realm="api"')
    const token = await clientToken(['smd.other'])
    const weak = await request(a).head('/State/Components').set('Authorization', `Bearer ${token}`)
    expect(weak.status).toBe(403)
    expect(weak.headers['www-authenticate']).toContain('scope="smd.read"')
  })

  it('applies requireAnyScope, requireActor and requireClaim', async () => {
    const a = app()
    const admin = await clientToken(['smd.admin'])
    expect((await request(a).get('/any').set('Authorization', `Bearer ${admin}`)).status).toBe(200)
    const other = await clientToken(['x'])
    const anyRes = await request(a).get('/any').set('Authorization', `Bearer ${other}`)
    expect(anyRes.status).toBe(403)
    expect(anyRes.headers['www-authenticate']).toContain('scope="smd.read smd.admin"')
    const client = await clientToken()
    expect(
      (await request(a).get('/users-only').set('Authorization', `Bearer ${client}`)).status,
    ).toBe(403)
    const user = await issuer.mintUserToken({
      sub: 'alice',
      clientId: 'cli',
      audience: ['smd'],
      claims: { role: 'operator' },
    })
    expect(
      (await request(a).get('/users-only').set('Authorization', `Bearer ${user}`)).status,
    ).toBe(200)
    expect((await request(a).get('/operators').set('Authorization', `Bearer ${user}`)).status).toBe(
      200,
    )
    expect(
      (await request(a).get('/operators').set('Authorization', `Bearer ${client}`)).status,
    ).toBe(403)
  })

  it('answers a malformed Authorization header 400 invalid_request', async () => {
    for (const value of ['Bearer', 'Bearer a b', 'Bearer abc"', 'Bearer abc,x']) {
      const res = await request(app()).get('/State/Components').set('Authorization', value)
      expect(res.status, value).toBe(400)
      expect(res.body.error).toBe('invalid_request')
      expect(res.headers['www-authenticate']).toContain('error="invalid_request"')
    }
  })

  it('treats another scheme as no credentials', async () => {
    const res = await request(app())
      .get('/State/Components')
      .set('Authorization', 'Basic dXNlcjpwYXNz')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"')
  })

  it('answers two Authorization headers 400 even when both are valid', async () => {
    const server = await listen(app())
    try {
      const a = await clientToken()
      const b = await issuer.mintUserToken({
        sub: 'mallory',
        clientId: 'x',
        audience: ['smd'],
        scope: ['smd.read'],
      })
      const res = await rawRequest(server.port, [
        'GET /State/Components HTTP/1.1',
        'Host: 127.0.0.1',
        `Authorization: Bearer ${a}`,
        `Authorization: Bearer ${b}`,
      ])
      expect(res.status).toBe(400)
      expect(JSON.parse(res.body)).toMatchObject({ error: 'invalid_request' })
    } finally {
      await server.close()
    }
  })

  it('refuses a header token combined with an access_token query parameter', async () => {
    const token = await clientToken()
    const res = await request(app())
      .get(`/State/Components?access_token=${token}`)
      .set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('invalid_request')
    const queryOnly = await request(app()).get(`/State/Components?access_token=${token}`)
    expect(queryOnly.status).toBe(401)
    expect(queryOnly.headers['www-authenticate']).toBe('Bearer realm="api"')
  })

  it('lets anonymous requests through in optional mode but still rejects an invalid token', async () => {
    const a = app({ optional: true })
    expect((await request(a).get('/open')).body).toEqual({ anonymous: true })
    const expired = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], ttl: -120 })
    const res = await request(a).get('/open').set('Authorization', `Bearer ${expired}`)
    expect(res.status).toBe(401)
    expect(res.body.error).toBe('invalid_token')
    const guarded = await request(a).get('/State/Components')
    expect(guarded.status).toBe(401)
    expect(guarded.headers['www-authenticate']).toBe('Bearer realm="api"')
  })

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

  it('fails closed when a guard is mounted without authenticate', async () => {
    const res = await request(app({}, false)).get('/State/Components')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"')
  })

  it('keeps accepting valid tokens from the last good keys while the JWKS endpoint is down', async () => {
    const local = await createTestIssuer()
    try {
      const a = app({ issuer: local.issuer, jwksUri: local.jwksUri, cache: false })
      const first = await local.mintClientToken({
        clientId: 'bss',
        audience: ['smd'],
        scope: ['smd.read'],
      })
      expect(
        (await request(a).get('/State/Components').set('Authorization', `Bearer ${first}`)).status,
      ).toBe(200)
      local.setJwksMode('fail')
      const second = await local.mintClientToken({
        clientId: 'bss',
        audience: ['smd'],
        scope: ['smd.read'],
      })
      const res = await request(a).get('/State/Components').set('Authorization', `Bearer ${second}`)
      expect(res.status).toBe(200)
    } finally {
      await local.close()
    }
  })

  it('answers 503 with Retry-After on a cold cache while the JWKS endpoint is down', async () => {
    const local = await createTestIssuer()
    try {
      local.setJwksMode('fail')
      const a = app({ issuer: local.issuer, jwksUri: local.jwksUri })
      const token = await local.mintClientToken({
        clientId: 'bss',
        audience: ['smd'],
        scope: ['smd.read'],
      })
      const res = await request(a).get('/State/Components').set('Authorization', `Bearer ${token}`)
      expect(res.status).toBe(503)
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1)
      expect(res.headers['www-authenticate']).toBeUndefined()
      expect(res.body.error).toBe('temporarily_unavailable')
      expect(JSON.stringify(res.body)).not.toContain(local.jwksUri)
    } finally {
      await local.close()
    }
  })
})

async function listen(handler: Express): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve()
        }),
      ),
  }
}
