/**
 * The URI a DPoP proof must name behind a reverse proxy (RFC 9449 §4.3 step 9, issue 18), on
 * Express 5 and 4 and Koa 3 and 2: the adapters read the scheme and host the way the framework's
 * own trust-proxy setting says (Express `trust proxy`, Koa `app.proxy`), or use `publicOrigin`.
 * The pitfall this guards against both ways: forwarded headers from anyone when no proxy is
 * trusted (a proof made for another server would then pass), and a proxied service that refuses
 * every proof because it sees its internal address.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as ex from '@svcauth/express'
import * as ko from '@svcauth/koa'
import { createDpopKey, createTestIssuer, type DpopKey, type TestIssuer } from '@svcauth/testing'
import Router from '@koa/router'
import express5 from 'express'
import express4 from 'express4'
import Koa3 from 'koa'
import Koa2 from 'koa2'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FRAMEWORKS, type Framework } from './harness.js'

type Setup = { trustProxy: boolean; publicOrigin?: string }

let issuer: TestIssuer
let key: DpopKey
const servers: Server[] = []

beforeAll(async () => {
  ;[issuer, key] = await Promise.all([createTestIssuer(), createDpopKey()])
})
afterAll(async () => {
  for (const s of servers) s.closeAllConnections()
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  await issuer.close()
})

/** An app with `authenticate({ dpop: true })` on /smd/v2/read, mounted under a router prefix. */
async function start(framework: Framework, setup: Setup): Promise<string> {
  const options = {
    issuer: issuer.issuer,
    audience: 'smd',
    jwksUri: issuer.jwksUri,
    dpop: true,
    ...(setup.publicOrigin === undefined ? {} : { publicOrigin: setup.publicOrigin }),
  }
  let handler: Parameters<typeof createServer>[1]
  if (framework === 'Express 5' || framework === 'Express 4') {
    const express = framework === 'Express 5' ? express5 : express4
    const app = express()
    if (setup.trustProxy) app.set('trust proxy', 'loopback')
    const router = express.Router()
    router.use(ex.authenticate(options))
    router.get('/v2/read', (req, res) => {
      res.json({ jkt: req.auth?.confirmation?.jkt ?? null })
    })
    app.use('/smd', router)
    handler = app
  } else {
    const Koa = framework === 'Koa 3' ? Koa3 : Koa2
    const app = new Koa<ko.AuthState>()
    app.proxy = setup.trustProxy
    const router = new Router<ko.AuthState>({ prefix: '/smd' })
    router.use(ko.authenticate(options))
    router.get('/v2/read', (ctx) => {
      ctx.body = { jkt: ctx.state.auth?.confirmation?.jkt ?? null }
    })
    app.use(router.routes())
    const callback = app.callback()
    handler = (req, res) => {
      void callback(req, res)
    }
  }
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** GET /smd/v2/read with a proof for `htu`, through forwarded headers when given. */
async function call(base: string, htu: string, forwarded: Record<string, string> = {}) {
  const token = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], dpop: key })
  const proof = await key.proof({ method: 'GET', url: htu, accessToken: token })
  let req = request(base)
    .get('/smd/v2/read?limit=5')
    .set('Authorization', `DPoP ${token}`)
    .set('DPoP', proof)
  for (const [name, value] of Object.entries(forwarded)) req = req.set(name, value)
  const res = await req
  return { status: res.status, reason: reasonOf(res.headers['www-authenticate']) }
}

/** The error of the DPoP challenge, or null. */
function reasonOf(challenge: unknown): string | null {
  if (typeof challenge !== 'string') return null
  return /DPoP error="([^"]+)"/.exec(challenge)?.[1] ?? null
}

const FORWARDED = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'smd.example, internal:8080' }

describe.each(FRAMEWORKS)('DPoP htu on %s', (framework) => {
  it('trusting the proxy: the forwarded scheme and first forwarded host are the URI', async () => {
    const base = await start(framework, { trustProxy: true })
    expect(await call(base, 'https://smd.example/smd/v2/read', FORWARDED)).toEqual({
      status: 200,
      reason: null,
    })
    // The address the proxy reached the process by is not the URI the client addressed.
    expect(await call(base, `${base}/smd/v2/read`, FORWARDED)).toEqual({
      status: 401,
      reason: 'invalid_dpop_proof',
    })
    // Without forwarded headers the request's own Host and scheme count.
    expect((await call(base, `${base}/smd/v2/read`)).status).toBe(200)
  })

  it('P14: not trusting a proxy: forwarded headers from the caller are ignored', async () => {
    const base = await start(framework, { trustProxy: false })
    expect(await call(base, 'https://smd.example/smd/v2/read', FORWARDED)).toEqual({
      status: 401,
      reason: 'invalid_dpop_proof',
    })
    expect((await call(base, `${base}/smd/v2/read`, FORWARDED)).status).toBe(200)
  })

  it('publicOrigin: the configured origin and prefix, whatever the headers say', async () => {
    const base = await start(framework, {
      trustProxy: true,
      publicOrigin: 'https://api.example/gateway',
    })
    expect((await call(base, 'https://api.example/gateway/smd/v2/read', FORWARDED)).status).toBe(
      200,
    )
    expect((await call(base, 'https://smd.example/smd/v2/read', FORWARDED)).status).toBe(401)
    expect((await call(base, `${base}/smd/v2/read`)).status).toBe(401)
  })

  it('P14: a malformed Host is a 400, not a URL built from it', async () => {
    const base = await start(framework, { trustProxy: true })
    const res = await call(base, 'https://smd.example/smd/v2/read', {
      'X-Forwarded-Host': 'smd.example/evil?',
    })
    expect(res.status).toBe(400)
  })
})
