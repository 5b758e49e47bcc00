/**
 * User-token propagation through both adapters (DESIGN "User-token propagation", catalogue K4):
 * a BSS-style service calls an SMD-style service that verifies tokens with svcauth. A user's call
 * forwards (or exchanges) the user's token to targets that allow it; a client's call and a worker
 * use BSS's own client-credentials token.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServiceClient, type ServiceClient, type UserTokenMode } from '@svcauth/client'
import * as ex from '@svcauth/express'
import * as ko from '@svcauth/koa'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import Router from '@koa/router'
import express from 'express'
import Koa from 'koa'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

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

/** BSS on Express or Koa: authenticates its caller, then asks SMD who it thinks is calling. */
function bssApp(framework: 'Express' | 'Koa', svc: ServiceClient) {
  const options = { issuer: issuer.issuer, audience: 'bss', jwksUri: issuer.jwksUri }
  if (framework === 'Express') {
    const app = express()
    const auth = ex.authenticate(options)
    app.use(auth, ex.outbound(svc))
    app.get('/call', async (req, res) => {
      const answer = await req.outbound!.fetch(`${smd.origin}/whoami`)
      res.status(answer.status).json(await answer.json())
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
    const answer = await ctx.outbound.fetch(`${smd.origin}/whoami`)
    ctx.status = answer.status
    ctx.body = await answer.json()
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
