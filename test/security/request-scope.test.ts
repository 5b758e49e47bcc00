/**
 * R4 (issue 14): no user identity after the request ends. Work started inside a request that runs
 * after its response finished (a promise continuation, a poller started lazily) or after the
 * client hung up calls out with the service's own token and audits as the service, on both
 * adapters. During the request the user's token is still forwarded and events name the user.
 */
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAuditLogger } from '@svcauth/audit'
import { createServiceClient, type OutboundCalls, type ServiceClient } from '@svcauth/client'
import { runWithRequest, type ResponseLike } from '@svcauth/core/internal'
import * as ex from '@svcauth/express'
import * as ko from '@svcauth/koa'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import Router from '@koa/router'
import express from 'express'
import Koa from 'koa'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { typeError } from '../support/type-error.js'
import { captureLogs } from '../support/log-capture.js'

interface Who {
  actorType: string
  actorId: string
}

let issuer: TestIssuer
let smd: { origin: string; server: Server; close(): void }
let svc: ServiceClient

beforeAll(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'bss', secrets: ['s3cret'], scope: ['smd.read'], audience: ['smd'] })
  const app = express()
  const auth = ex.authenticate({ issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri })
  app.use(auth)
  app.get('/whoami', (req, res) => {
    res.json({ actorType: req.auth?.actorType, actorId: req.auth?.actorId })
  })
  const server = createServer(app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  smd = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () => {
      auth.authenticator.close()
      server.closeAllConnections()
      server.close()
    },
  }
  svc = createServiceClient({
    tokenEndpoint: issuer.tokenEndpoint,
    clientId: 'bss',
    clientSecret: 's3cret',
    targets: { [smd.origin]: { scope: 'smd.read', audience: 'smd', userToken: 'forward' } },
  })
})
afterAll(async () => {
  await svc.close()
  smd.close()
  await issuer.close()
})

const userToken = () =>
  issuer.mintUserToken({
    sub: 'alice',
    clientId: 'ochami-cli',
    scope: ['smd.read'],
    audience: ['bss', 'smd'],
  })

async function whoami(calls: Pick<OutboundCalls, 'fetch'>): Promise<Who> {
  const res = await calls.fetch(`${smd.origin}/whoami`)
  return (await res.json()) as Who
}

/** What a route leaves running: released by the test once the response is in. */
interface Deferred {
  release(): void
  readonly done: Promise<{ viaRequest: Who; viaClient: Who }>
}

function defer(outbound: OutboundCalls, audit: () => void): Deferred {
  let release!: () => void
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  // The continuation is registered inside the request, so it inherits the request's context.
  const done = gate.then(async () => {
    const result = { viaRequest: await whoami(outbound), viaClient: await whoami(svc) }
    audit()
    return result
  })
  return { release, done }
}

interface Bss {
  readonly handler: Parameters<typeof request>[0]
  readonly listen: () => Promise<string>
  readonly logs: ReturnType<typeof captureLogs>
  deferred: Deferred | undefined
  hungUp: Promise<Who> | undefined
  /** Released by the test after the client hung up. */
  releaseHungUp: (() => void) | undefined
  poller: { seen: Who[]; stop(): void } | undefined
  close(): void
}

function startPoller(bss: Bss): void {
  const seen: Who[] = []
  // Started lazily by the first request that needs it, as a cache warmer or watcher would be.
  const timer = setInterval(() => {
    whoami(svc).then(
      (who) => seen.push(who),
      () => undefined,
    )
  }, 5)
  bss.poller = {
    seen,
    stop: () => {
      clearInterval(timer)
    },
  }
}

function bssApp(framework: 'Express' | 'Koa'): Bss {
  const logs = captureLogs()
  const options = { issuer: issuer.issuer, audience: 'bss', jwksUri: issuer.jwksUri }
  const audit = { stream: logs.stream, service: { clientId: 'bss' } }
  const state = {
    deferred: undefined,
    hungUp: undefined,
    releaseHungUp: undefined,
    poller: undefined,
  }
  let server: Server | undefined
  if (framework === 'Express') {
    const app = express()
    const auth = ex.authenticate(options)
    app.use(ex.auditLogger(audit), auth, ex.outbound(svc))
    const bss: Bss = {
      ...state,
      handler: app,
      logs,
      listen: () => listen(app),
      close: () => {
        bss.poller?.stop()
        auth.authenticator.close()
        server?.closeAllConnections()
        server?.close()
      },
    }
    app.get('/deferred', async (req, res) => {
      const during = await whoami(req.outbound!)
      req.audit?.('during_request')
      bss.deferred = defer(req.outbound!, () => req.audit?.('after_response'))
      res.json(during)
    })
    app.get('/poll', (_req, res) => {
      if (bss.poller === undefined) startPoller(bss)
      res.json({ started: true })
    })
    app.get('/hang-up', async (req) => {
      await new Promise<void>((resolve) => (bss.releaseHungUp = resolve))
      bss.hungUp = whoami(req.outbound!)
    })
    const listen = async (handler: express.Express) => {
      server = createServer(handler)
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    }
    return bss
  }
  const app = new Koa<ko.AuthState, ko.OutboundContext & ko.AuditContext>()
  const auth = ko.authenticate(options)
  const router = new Router<ko.AuthState, ko.OutboundContext & ko.AuditContext>()
  // Koa composes its middleware in callback(): mount everything first.
  app.use(ko.auditLogger(audit)).use(auth).use(ko.outbound(svc)).use(router.routes())
  const bss: Bss = {
    ...state,
    handler: app.callback(),
    logs,
    listen: async () => {
      const callback = app.callback()
      server = createServer((req, res) => {
        void callback(req, res)
      })
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    },
    close: () => {
      bss.poller?.stop()
      auth.authenticator.close()
      server?.closeAllConnections()
      server?.close()
    },
  }
  router.get('/deferred', async (ctx) => {
    const during = await whoami(ctx.outbound)
    ctx.audit('during_request')
    bss.deferred = defer(ctx.outbound, () => {
      ctx.audit('after_response')
    })
    ctx.body = during
  })
  router.get('/poll', (ctx) => {
    if (bss.poller === undefined) startPoller(bss)
    ctx.body = { started: true }
  })
  router.get('/hang-up', async (ctx) => {
    await new Promise<void>((resolve) => (bss.releaseHungUp = resolve))
    bss.hungUp = whoami(ctx.outbound)
    ctx.body = {}
  })
  return bss
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5))
}

describe.each(['Express', 'Koa'] as const)('R4 on %s', (framework) => {
  it('R4: work left running by a request calls out as the service once the response finished', async () => {
    const bss = bssApp(framework)
    try {
      const res = await request(bss.handler)
        .get('/deferred')
        .set('Authorization', `Bearer ${await userToken()}`)
      // During the request the user's token is forwarded.
      expect(res.body).toEqual({ actorType: 'user', actorId: 'alice' })
      bss.deferred!.release()
      const after = await bss.deferred!.done
      expect(after.viaRequest).toEqual({ actorType: 'client', actorId: 'bss' })
      expect(after.viaClient).toEqual({ actorType: 'client', actorId: 'bss' })
    } finally {
      bss.close()
    }
  })

  it('R4: audit events from work left running are attributed to the service, with the request id', async () => {
    const bss = bssApp(framework)
    try {
      await request(bss.handler)
        .get('/deferred')
        .set('Authorization', `Bearer ${await userToken()}`)
      bss.deferred!.release()
      await bss.deferred!.done
      const [during, after] = bss.logs.audits()
      expect(during).toMatchObject({
        event: 'during_request',
        actor_type: 'user',
        actor_id: 'alice',
      })
      expect(after).toMatchObject({
        event: 'after_response',
        actor_type: 'client',
        actor_id: 'bss',
        sub: 'bss',
        client_id: 'bss',
      })
      expect(after?.req_id).toBe(bss.logs.requests()[0]?.req_id)
    } finally {
      bss.close()
    }
  })

  it('R4: a poller started lazily inside a user request polls as the service', async () => {
    const bss = bssApp(framework)
    try {
      const res = await request(bss.handler)
        .get('/poll')
        .set('Authorization', `Bearer ${await userToken()}`)
      expect(res.status).toBe(200)
      const poller = bss.poller!
      const from = poller.seen.length
      await until(() => poller.seen.length >= from + 3)
      expect(poller.seen.slice(from)).toEqual(
        Array.from({ length: poller.seen.length - from }, () => ({
          actorType: 'client',
          actorId: 'bss',
        })),
      )
    } finally {
      bss.close()
    }
  })

  it('R4: once the client hung up, the abandoned handler calls out as the service', async () => {
    const bss = bssApp(framework)
    try {
      const origin = await bss.listen()
      const token = await userToken()
      const req = httpRequest(`${origin}/hang-up`, {
        headers: { authorization: `Bearer ${token}` },
      })
      req.on('error', () => undefined)
      req.end()
      await until(() => bss.releaseHungUp !== undefined)
      req.destroy()
      // Wait until the server saw the connection go.
      await until(() => bss.logs.requests().length > 0)
      bss.releaseHungUp!()
      await until(() => bss.hungUp !== undefined)
      expect(await bss.hungUp).toEqual({ actorType: 'client', actorId: 'bss' })
    } finally {
      bss.close()
    }
  })
})

describe('R4 in the core and the audit package', () => {
  const principalOf = async () => {
    const { authenticator } = ex.authenticate({
      issuer: issuer.issuer,
      audience: 'bss',
      jwksUri: issuer.jwksUri,
    })
    try {
      return await authenticator.verify(await userToken())
    } finally {
      authenticator.close()
    }
  }

  it('R4: currentAuthContext() has the caller until the response ends, then none', async () => {
    const principal = await principalOf()
    const response = { writableFinished: false, destroyed: false }
    const seen: (string | undefined)[] = []
    runWithRequest(principal, response as ResponseLike, () => {
      seen.push(ex.currentAuthContext()?.principal?.actorId)
      response.writableFinished = true
      seen.push(ex.currentAuthContext()?.principal?.actorId)
    })
    const aborted = { writableFinished: false, destroyed: true }
    runWithRequest(principal, aborted, () => {
      seen.push(ex.currentAuthContext()?.principal?.actorId)
    })
    expect(seen).toEqual(['alice', undefined, undefined])
  })

  it('R4: eventAs from ended or no request names the configured service, never the user', async () => {
    const principal = await principalOf()
    const logs = captureLogs()
    const audit = createAuditLogger({ stream: logs.stream, service: { clientId: 'bss' } })
    const response = { writableFinished: false, destroyed: false }
    runWithRequest(principal, response, () => {
      audit.eventAs(undefined, 'during')
      response.writableFinished = true
      audit.eventAs(undefined, 'after')
    })
    audit.eventAs(undefined, 'cron_ran')
    expect(logs.audits().map((l) => [l.event, l.actor_type, l.actor_id])).toEqual([
      ['during', 'user', 'alice'],
      ['after', 'client', 'bss'],
      ['cron_ran', 'client', 'bss'],
    ])
    expect(() => createAuditLogger({ service: { clientId: '' } })).toThrow(
      typeError(/service must be \{ clientId: string \}/),
    )
  })
})
