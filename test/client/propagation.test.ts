/**
 * User-token propagation through both adapters (DESIGN "User-token propagation", catalogue K4):
 * a BSS-style service calls an SMD-style service that verifies tokens with svcauth. A user's call
 * forwards (or exchanges) the user's token to targets that allow it; a client's call and a worker
 * use BSS's own client-credentials token. R1: a user's token goes only to a target whose audience
 * or RFC 8707 resource is in its `aud`; elsewhere the call is refused and never sent.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  createServiceClient,
  isUserTokenRefusedError,
  type OutboundCalls,
  type ServiceClient,
  type TargetConfig,
  type UserTokenMode,
} from '@svcauth/client'
import { createAuthenticator, runWithPrincipal, type Principal } from '@svcauth/core'
import * as ex from '@svcauth/express'
import * as ko from '@svcauth/koa'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import Router from '@koa/router'
import express from 'express'
import Koa from 'koa'
import request from 'supertest'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { captureLogs, LEVEL } from '../support/log-capture.js'
import { startDownstream } from './downstream.js'

let issuer: TestIssuer
let smd: { origin: string; seen: (string | undefined)[]; server: Server; close(): void }

interface SmdView {
  actorType: string
  actorId: string
  sub: string | null
  clientId: string | null
  act: string | null
}

beforeAll(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'bss', secrets: ['s3cret'], scope: ['smd.read'], audience: ['smd'] })
  // SMD verifies whatever it receives with svcauth itself.
  const app = express()
  const auth = ex.authenticate({ issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri })
  const seen: (string | undefined)[] = []
  app.use((req, _res, next) => {
    seen.push(req.headers.authorization)
    next()
  })
  app.use(auth)
  app.get('/whoami', (req, res) => {
    const p = req.auth
    res.json({
      actorType: p?.actorType,
      actorId: p?.actorId,
      sub: p?.sub ?? null,
      clientId: p?.clientId ?? null,
      act: p?.act?.sub ?? null,
    })
  })
  const server = createServer(app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  smd = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    server,
    close: () => {
      auth.authenticator.close()
      server.closeAllConnections()
      server.close()
    },
  }
})
afterAll(async () => {
  smd.close()
  await issuer.close()
})

function serviceClient(mode: UserTokenMode): ServiceClient {
  return createServiceClient({
    tokenEndpoint: issuer.tokenEndpoint,
    clientId: 'bss',
    clientSecret: 's3cret',
    targets: { [smd.origin]: { scope: 'smd.read', audience: 'smd', userToken: mode } },
  })
}

/** What BSS's `/call` route answers, given the outbound call to SMD's `/whoami`. */
type Route = (
  call: () => ReturnType<OutboundCalls['fetch']>,
) => Promise<{ status: number; body: unknown }>

/** By default: SMD's own answer, passed through. */
const passThrough: Route = async (call) => {
  const answer = await call()
  return { status: answer.status, body: await answer.json() }
}

/**
 * BSS on Express or Koa: authenticates its caller, then asks SMD who it thinks is calling and
 * answers as `route` says.
 */
function bssApp(framework: 'Express' | 'Koa', svc: ServiceClient, route: Route = passThrough) {
  const options = { issuer: issuer.issuer, audience: 'bss', jwksUri: issuer.jwksUri }
  if (framework === 'Express') {
    const app = express()
    const auth = ex.authenticate(options)
    app.use(auth, ex.outbound(svc))
    app.get('/call', async (req, res) => {
      const { status, body } = await route(() => req.outbound!.fetch(`${smd.origin}/whoami`))
      res.status(status).json(body)
    })
    return {
      handler: app,
      close: () => {
        auth.authenticator.close()
      },
    }
  }
  const app = new Koa<ko.AuthState, ko.OutboundContext>()
  const auth = ko.authenticate(options)
  const router = new Router<ko.AuthState, ko.OutboundContext>()
  router.get('/call', async (ctx) => {
    const { status, body } = await route(() => ctx.outbound.fetch(`${smd.origin}/whoami`))
    ctx.status = status
    ctx.body = body
  })
  app.use(auth).use(ko.outbound(svc)).use(router.routes())
  return {
    handler: app.callback(),
    close: () => {
      auth.authenticator.close()
    },
  }
}

const userToken = () =>
  issuer.mintUserToken({
    sub: 'alice',
    clientId: 'ochami-cli',
    scope: ['smd.read'],
    audience: ['bss', 'smd'],
  })
const clientToken = () =>
  issuer.mintClientToken({ clientId: 'cron', scope: ['bss.read'], audience: ['bss'] })

describe.each(['Express', 'Koa'] as const)('propagation through %s', (framework) => {
  it("forwards a user's token unchanged to a target that allows it", async () => {
    const svc = serviceClient('forward')
    const bss = bssApp(framework, svc)
    try {
      const token = await userToken()
      const res = await request(bss.handler).get('/call').set('Authorization', `Bearer ${token}`)
      expect(res.status).toBe(200)
      expect(res.body).toEqual({
        actorType: 'user',
        actorId: 'alice',
        sub: 'alice',
        clientId: 'ochami-cli',
        act: null,
      })
      expect(smd.seen.at(-1)).toBe(`Bearer ${token}`)
    } finally {
      bss.close()
      await svc.close()
    }
  })

  it("uses the service's own token when the caller is a client", async () => {
    const svc = serviceClient('forward')
    const bss = bssApp(framework, svc)
    try {
      const res = await request(bss.handler)
        .get('/call')
        .set('Authorization', `Bearer ${await clientToken()}`)
      expect(res.body).toEqual({
        actorType: 'client',
        actorId: 'bss',
        sub: 'bss',
        clientId: 'bss',
        act: null,
      })
    } finally {
      bss.close()
      await svc.close()
    }
  })

  it("exchanges a user's token (RFC 8693) where the target asks for it: SMD sees the user acting through BSS", async () => {
    const svc = serviceClient('exchange')
    const bss = bssApp(framework, svc)
    try {
      const token = await userToken()
      const before = issuer.tokenRequests.length
      for (let i = 0; i < 3; i++) {
        const res = await request(bss.handler).get('/call').set('Authorization', `Bearer ${token}`)
        expect(res.body).toEqual({
          actorType: 'user',
          actorId: 'alice',
          sub: 'alice',
          clientId: 'bss',
          act: 'bss',
        })
      }
      const exchanges = issuer.tokenRequests.slice(before)
      expect(exchanges).toHaveLength(1) // cached by subject-token hash
      expect(exchanges[0]?.form).toMatchObject({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: token,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        audience: 'smd',
      })
      expect(exchanges[0]?.headers.authorization).not.toContain(token)
      expect(smd.seen.at(-1)).not.toBe(`Bearer ${token}`)
    } finally {
      bss.close()
      await svc.close()
    }
  })

  it("never forwards a user's token to a target set to 'never'", async () => {
    const svc = serviceClient('never')
    const bss = bssApp(framework, svc)
    try {
      const res = await request(bss.handler)
        .get('/call')
        .set('Authorization', `Bearer ${await userToken()}`)
      expect(res.body).toMatchObject({ actorType: 'client', actorId: 'bss' })
    } finally {
      bss.close()
      await svc.close()
    }
  })
})

describe('workers', () => {
  it("a worker outside any request uses the service's client-credentials token", async () => {
    const svc = serviceClient('forward')
    try {
      const res = await svc.fetch(`${smd.origin}/whoami`)
      expect(await res.json()).toEqual({
        actorType: 'client',
        actorId: 'bss',
        sub: 'bss',
        clientId: 'bss',
        act: null,
      })
    } finally {
      await svc.close()
    }
  })

  it('forPrincipal binds calls to a caller even outside the request scope', async () => {
    const svc = serviceClient('forward')
    const verifier = ex.authenticate({
      issuer: issuer.issuer,
      audience: 'bss',
      jwksUri: issuer.jwksUri,
    })
    try {
      const token = await userToken()
      const alice = await verifier.authenticator.verify(token)
      const res = await svc.forPrincipal(alice).fetch(`${smd.origin}/whoami`)
      expect(((await res.json()) as SmdView).actorId).toBe('alice')
      expect(smd.seen.at(-1)).toBe(`Bearer ${token}`)
    } finally {
      verifier.authenticator.close()
      await svc.close()
    }
  })
})

const SMD_RESOURCE = 'https://smd.openchami.example/'

/** A user token for `audience`, and the principal a service would build from it. */
async function alice(audience: string[]): Promise<{ token: string; principal: Principal }> {
  const token = await issuer.mintUserToken({
    sub: 'alice',
    clientId: 'ochami-cli',
    scope: ['smd.read'],
    audience,
  })
  const auth = createAuthenticator({
    issuer: issuer.issuer,
    audience: false,
    jwksUri: issuer.jwksUri,
    logger: { warn: () => undefined, error: () => undefined },
  })
  try {
    return { token, principal: await auth.verify(token) }
  } finally {
    auth.close()
  }
}

/** The error a refused call rejects with: fetch wraps the dispatcher's error in a TypeError. */
async function refusal(call: Promise<unknown>): Promise<unknown> {
  const err: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  )
  return err instanceof TypeError && err.cause !== undefined ? err.cause : err
}

describe('R1: a user token goes only where it was issued for', () => {
  const forwardTo = (origin: string, target: TargetConfig, logs = captureLogs()) =>
    createServiceClient({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId: 'bss',
      clientSecret: 's3cret',
      targets: { [origin]: { userToken: 'forward', ...target } },
      logger: pino({}, logs.stream),
    })

  it('R1: refuses to forward to a resource-only target a token whose aud lacks the resource; the target sees nothing', async () => {
    const target = await startDownstream()
    const logs = captureLogs()
    const svc = forwardTo(target.origin, { resource: SMD_RESOURCE }, logs)
    try {
      const { token, principal } = await alice(['bss', 'smd'])
      const viaFetch = await refusal(
        runWithPrincipal(principal, () => svc.fetch(`${target.origin}/hsm/v2/State/Components`)),
      )
      const viaRequest = await refusal(
        svc.forPrincipal(principal).request(`${target.origin}/hsm/v2/State/Components`),
      )
      for (const err of [viaFetch, viaRequest]) {
        expect(isUserTokenRefusedError(err)).toBe(true)
        expect(err).toMatchObject({
          code: 'ERR_USER_TOKEN_REFUSED',
          origin: target.origin,
          status: 403,
        })
        expect((err as Error).message).toContain("the user's token is not issued for this target")
        expect(JSON.stringify(err) + String(err)).not.toContain(token)
      }
      expect(target.seen).toHaveLength(0)
      expect(issuer.tokenRequests.some((r) => JSON.stringify(r).includes(token))).toBe(false)
      const refused = logs.lines.filter((l) => l.event === 'user_token_refused')
      expect(refused).toHaveLength(2)
      expect(refused[0]).toMatchObject({
        level: LEVEL.warn,
        target: target.origin,
        audience: SMD_RESOURCE,
        sub: 'alice',
        client_id: 'ochami-cli',
        token_audience: 'bss smd',
      })
      expect(logs.raw.join('')).not.toContain(token)
    } finally {
      await svc.close()
      await target.close()
    }
  })

  it('R1: forwards a token whose aud contains the target resource, or one of the audiences given with it', async () => {
    const target = await startDownstream()
    const viaResource = forwardTo(target.origin, { resource: SMD_RESOURCE })
    const both = forwardTo(target.origin, {
      resource: 'urn:openchami:smd',
      audience: ['smd', 'openchami'],
    })
    try {
      const forSmd = await alice(['bss', SMD_RESOURCE])
      await (await viaResource.forPrincipal(forSmd.principal).fetch(`${target.origin}/a`)).text()
      const admin = await alice(['openchami'])
      await (await both.forPrincipal(admin.principal).fetch(`${target.origin}/b`)).text()
      expect(target.seen.map((s) => s.authorization)).toEqual([
        `Bearer ${forSmd.token}`,
        `Bearer ${admin.token}`,
      ])
    } finally {
      await Promise.all([viaResource.close(), both.close()])
      await target.close()
    }
  })

  it("R1: a 'forward' target with neither audience nor resource is a TypeError naming the origin and the fix", () => {
    const origin = 'http://127.0.0.1:27779'
    for (const target of [{}, { scope: 'smd.read' }] as TargetConfig[]) {
      let thrown: unknown
      try {
        forwardTo(origin, target)
      } catch (err) {
        thrown = err
      }
      expect(thrown).toBeInstanceOf(TypeError)
      expect((thrown as Error).message).toContain(origin)
      expect((thrown as Error).message).toMatch(
        /needs the target's audience or resource.*add audience/,
      )
    }
    expect(() => forwardTo(origin, { audience: 'smd' }).close()).not.toThrow()
    expect(() => forwardTo(origin, { resource: SMD_RESOURCE }).close()).not.toThrow()
  })
})

describe.each(['Express', 'Koa'] as const)('R1 through %s', (framework) => {
  it("R1: the handler's outbound call with a user token not issued for the target is refused and not sent", async () => {
    const svc = createServiceClient({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId: 'bss',
      clientSecret: 's3cret',
      targets: {
        [smd.origin]: { scope: 'smd.read', resource: SMD_RESOURCE, userToken: 'forward' },
      },
    })
    const bss = refusingApp(framework, svc)
    const before = smd.seen.length
    try {
      const token = await userToken() // aud: bss, smd; not the SMD resource
      const res = await request(bss.handler).get('/call').set('Authorization', `Bearer ${token}`)
      expect(res.status).toBe(403)
      expect(res.body).toEqual({ refused: 'ERR_USER_TOKEN_REFUSED', origin: smd.origin })
      expect(JSON.stringify(res.body)).not.toContain(token)
      expect(smd.seen.length).toBe(before)
    } finally {
      bss.close()
      await svc.close()
    }
  })
})

/** A BSS whose handler answers with the refusal it met, the way an application would map it. */
function refusingApp(framework: 'Express' | 'Koa', svc: ServiceClient) {
  return bssApp(framework, svc, async (call) => {
    const err = await refusal(call())
    return isUserTokenRefusedError(err)
      ? { status: err.status, body: { refused: err.code, origin: err.origin } }
      : { status: 200, body: { refused: null } }
  })
}
