/**
 * One app layout, built for each framework under test (Express 5, Express 4, Koa 3, Koa 2), so the
 * conformance table can run unchanged against all of them.
 *
 * Routes:
 *   /public                      no authentication
 *   /api/*                       authenticate(main issuer), with guards per route (/api/role:
 *                                requireClaim by value; /api/groups: requireClaimIncludes)
 *   /opt/*                       authenticate(main issuer, optional: true)
 *   /unauth/read                 a guard with no authenticate() before it
 *   /opaque/*                    authenticate(main issuer, with introspection for opaque tokens)
 *   /outage/read                 authenticate(an issuer whose JWKS the table can break)
 *   /cold/read                   authenticate(an issuer whose JWKS is down from the start)
 *   /dpop/*                      authenticate(main issuer, dpop: ES256 and EdDSA proofs)
 *   /dpop-only/read              authenticate(main issuer, dpop required, with server nonces)
 *   /dpop-opaque/read            authenticate(main issuer, dpop, introspection for opaque tokens)
 *   /tenant/read                 authenticate(issuers resolved per token: the main issuer only)
 *   /revocable/read              authenticate(main issuer, introspection for JWTs too: `jwt: 'always'`)
 *   /static/read                 authenticate(main issuer, keys: its PEM keys; no network)
 *   /keys-file/read              authenticate(main issuer, keysFile: its JWKS in a file)
 *   /offline/key-requests        public: how many requests the two routes above made (none)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuthOutcome, Principal } from '@svcauth/core'
import * as ex from '@svcauth/express'
import * as ko from '@svcauth/koa'
import type { TestIssuer } from '@svcauth/testing'
import Router from '@koa/router'
import express5 from 'express'
import express4 from 'express4'
import Koa3 from 'koa'
import Koa2 from 'koa2'
import { Agent, type Dispatcher } from 'undici'
import { captureLogs, type LogCapture } from '../support/log-capture.js'

export type Framework = 'Express 5' | 'Express 4' | 'Koa 3' | 'Koa 2'
export const FRAMEWORKS: readonly Framework[] = ['Express 5', 'Express 4', 'Koa 3', 'Koa 2']

export interface AppIssuers {
  readonly main: TestIssuer
  readonly outage: TestIssuer
  readonly cold: TestIssuer
}

export interface RunningApp {
  readonly url: string
  /** The auth outcome of the last finished request. */
  lastOutcome(): AuthOutcome | undefined
  /** Everything auditLogger() (mounted first) wrote. */
  readonly logs: LogCapture
  close(): Promise<void>
}

const REALM = 'smd'
const revokedJti = 'revoked-jti'

function options(issuer: TestIssuer, extra: Record<string, unknown> = {}) {
  return {
    issuer: issuer.issuer,
    audience: 'smd',
    jwksUri: issuer.jwksUri,
    realm: REALM,
    jwks: { cooldown: 100, refreshInterval: 60_000 },
    isRevoked: (p: Principal) => p.tokenId === revokedJti,
    ...extra,
  }
}

/** Introspection at the issuer's Hydra-shaped admin endpoint; results cached for a minute. */
const introspecting = (issuer: TestIssuer) => ({
  introspection: { endpoint: issuer.introspectionEndpoint, timeout: 1000 },
})

// --- issue 20, item 3: /revocable (instant revocation for JWTs) ---
/** Introspection of opaque tokens and, after local verification, of every JWT (`'always'`). */
const revocable = (issuer: TestIssuer) => ({
  introspection: { endpoint: issuer.introspectionEndpoint, timeout: 1000, jwt: 'always' },
})
// --- end /revocable ---

/** DPoP (RFC 9449): proofs in ES256 or EdDSA on /dpop; required, with nonces, on /dpop-only. */
const DPOP = { dpop: { algorithms: ['ES256', 'EdDSA'] } }
/** A fixed nonce secret, so every run hands out the same nonces and the table can fetch one. */
export const NONCE_SECRET = 'conformance-nonce-secret-0123456789abcdef'
const DPOP_ONLY = { dpop: { required: true, nonce: { secret: NONCE_SECRET } } }

/**
 * Issue 20, item 2: /tenant resolves the issuer of each token. The main issuer is a tenant; any
 * other issuer is refused; `BROKEN_TENANT`'s lookup fails, as a tenant directory that is down.
 */
export const BROKEN_TENANT = 'https://broken-tenant.example/'
const tenantOptions = (issuers: AppIssuers) => ({
  realm: REALM,
  jwks: { cooldown: 100, refreshInterval: 60_000 },
  issuers: (iss: string) => {
    if (iss === BROKEN_TENANT) throw new Error('tenant directory unreachable')
    const { main } = issuers
    return iss === main.issuer ? { issuer: iss, audience: 'smd', jwksUri: main.jwksUri } : undefined
  },
})

/** What a guarded route answers: enough of the principal to compare across frameworks. */
function summary(p: Principal | undefined) {
  if (p === undefined) return { anonymous: true }
  return {
    actorType: p.actorType,
    actorId: p.actorId,
    sub: p.sub ?? null,
    clientId: p.clientId ?? null,
    scopes: [...p.scopes].sort(),
    // Whether the token was DPoP-bound (its key differs per run, so not the thumbprint itself).
    ...(p.confirmation === undefined ? {} : { bound: typeof p.confirmation.jkt === 'string' }),
  }
}

const isOperator = (role: unknown): boolean => role === 'operator'

export async function startApp(framework: Framework, issuers: AppIssuers): Promise<RunningApp> {
  let last: AuthOutcome | undefined
  const logs = captureLogs()
  const closers: (() => void)[] = []
  const track = <T extends { authenticator: { close(): void } }>(mw: T): T => {
    closers.push(() => {
      mw.authenticator.close()
    })
    return mw
  }
  const handler: (req: IncomingMessage, res: ServerResponse) => unknown =
    framework === 'Express 5' || framework === 'Express 4'
      ? expressApp(
          framework === 'Express 5' ? express5 : express4,
          issuers,
          track,
          (o) => (last = o),
          logs,
        )
      : koaApp(framework === 'Koa 3' ? Koa3 : Koa2, issuers, track, (o) => (last = o), logs)
  const server: Server = createServer((req, res) => {
    void handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    lastOutcome: () => last,
    logs,
    close: async () => {
      for (const close of closers) close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

type Track = <T extends { authenticator: { close(): void } }>(mw: T) => T
type Record_ = (outcome: AuthOutcome | undefined) => void

function expressApp(
  express: typeof express5,
  issuers: AppIssuers,
  track: Track,
  record: Record_,
  logs: LogCapture,
) {
  const app = express()
  app.use(ex.auditLogger({ stream: logs.stream }))
  app.use((req, res, next) => {
    res.on('finish', () => {
      record(ex.authOutcome(req))
    })
    next()
  })
  app.get('/public', (_req, res) => {
    res.json({ public: true })
  })
  const api = express.Router()
  api.use(track(ex.authenticate(options(issuers.main))))
  api.get('/whoami', (req, res) => {
    res.json(summary(req.auth))
  })
  api.get('/read', ex.requireScopes('smd.read'), (req, res) => {
    res.json(summary(req.auth))
  })
  api.post('/write', ex.requireScopes('smd.write'), (_req, res) => {
    res.status(201).json({ written: true })
  })
  api.get('/both', ex.requireScopes('smd.read', 'smd.write'), (req, res) => {
    res.json(summary(req.auth))
  })
  api.get('/any', ex.requireAnyScope('smd.read', 'smd.admin'), (req, res) => {
    res.json(summary(req.auth))
  })
  api.get('/users', ex.requireActor('user'), (req, res) => {
    res.json(summary(req.auth))
  })
  api.get('/operators', ex.requireClaim('role', isOperator), (req, res) => {
    res.json(summary(req.auth))
  })
  api.get('/role', ex.requireClaim('role', 'operator'), (req, res) => {
    res.json(summary(req.auth))
  })
  api.get('/groups', ex.requireClaimIncludes('groups', 'hpc', 'ops'), (req, res) => {
    res.json(summary(req.auth))
  })
  api.get('/admin', ex.requireScopes('admin'), (req, res) => {
    res.json(summary(req.auth))
  })
  app.use('/api', api)
  const opt = express.Router()
  opt.use(track(ex.authenticate(options(issuers.main, { optional: true }))))
  opt.get('/whoami', (req, res) => {
    res.json(summary(req.auth))
  })
  opt.get('/read', ex.requireScopes('smd.read'), (req, res) => {
    res.json(summary(req.auth))
  })
  app.use('/opt', opt)
  const opaque = express.Router()
  opaque.use(track(ex.authenticate(options(issuers.main, introspecting(issuers.main)))))
  opaque.get('/whoami', (req, res) => {
    res.json(summary(req.auth))
  })
  opaque.get('/read', ex.requireScopes('smd.read'), (req, res) => {
    res.json(summary(req.auth))
  })
  app.use('/opaque', opaque)
  app.get('/unauth/read', ex.requireScopes('smd.read'), (req, res) => {
    res.json(summary(req.auth))
  })
  const dpop = express.Router()
  dpop.use(track(ex.authenticate(options(issuers.main, DPOP))))
  dpop.get('/whoami', (req, res) => {
    res.json(summary(req.auth))
  })
  dpop.get('/read', ex.requireScopes('smd.read'), (req, res) => {
    res.json(summary(req.auth))
  })
  dpop.post('/write', ex.requireScopes('smd.write'), (_req, res) => {
    res.status(201).json({ written: true })
  })
  app.use('/dpop', dpop)
  const dpopOnly = express.Router()
  dpopOnly.use(track(ex.authenticate(options(issuers.main, DPOP_ONLY))))
  dpopOnly.get('/read', ex.requireScopes('smd.read'), (req, res) => {
    res.json(summary(req.auth))
  })
  app.use('/dpop-only', dpopOnly)
  const dpopOpaque = express.Router()
  dpopOpaque.use(
    track(ex.authenticate(options(issuers.main, { ...DPOP, ...introspecting(issuers.main) }))),
  )
  dpopOpaque.get('/read', ex.requireScopes('smd.read'), (req, res) => {
    res.json(summary(req.auth))
  })
  app.use('/dpop-opaque', dpopOpaque)
  const tenant = express.Router()
  tenant.use(track(ex.authenticate(tenantOptions(issuers))))
  tenant.get('/read', ex.requireScopes('smd.read'), (req, res) => {
    res.json(summary(req.auth))
  })
  app.use('/tenant', tenant)
  // --- issue 20, item 3: /revocable ---
  const revocableRouter = express.Router()
  revocableRouter.use(track(ex.authenticate(options(issuers.main, revocable(issuers.main)))))
  revocableRouter.get('/read', ex.requireScopes('smd.read'), (req, res) => {
    res.json(summary(req.auth))
  })
  app.use('/revocable', revocableRouter)
  // --- end /revocable ---
  for (const [prefix, issuer] of [
    ['/outage', issuers.outage],
    ['/cold', issuers.cold],
  ] as const) {
    const r = express.Router()
    r.use(track(ex.authenticate(options(issuer, { cache: false }))))
    r.get('/read', ex.requireScopes('smd.read'), (req, res) => {
      res.json(summary(req.auth))
    })
    app.use(prefix, r)
  }
  mountOfflineExpress(express, app, issuers.main, track)
  return app
}

function koaApp(
  KoaClass: typeof Koa3,
  issuers: AppIssuers,
  track: Track,
  record: Record_,
  logs: LogCapture,
) {
  const app = new KoaClass<ko.AuthState>()
  app.use(ko.auditLogger({ stream: logs.stream }))
  app.use(async (ctx, next) => {
    try {
      await next()
    } finally {
      record(ko.authOutcome(ctx))
    }
  })
  const root = new Router<ko.AuthState>()
  root.get('/public', (ctx) => {
    ctx.body = { public: true }
  })
  root.get('/unauth/read', ko.requireScopes('smd.read'), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  const api = new Router<ko.AuthState>({ prefix: '/api' })
  api.use(track(ko.authenticate(options(issuers.main))))
  api.get('/whoami', (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  api.get('/read', ko.requireScopes('smd.read'), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  api.post('/write', ko.requireScopes('smd.write'), (ctx) => {
    ctx.status = 201
    ctx.body = { written: true }
  })
  api.get('/both', ko.requireScopes('smd.read', 'smd.write'), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  api.get('/any', ko.requireAnyScope('smd.read', 'smd.admin'), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  api.get('/users', ko.requireActor('user'), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  api.get('/operators', ko.requireClaim('role', isOperator), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  api.get('/role', ko.requireClaim('role', 'operator'), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  api.get('/groups', ko.requireClaimIncludes('groups', 'hpc', 'ops'), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  api.get('/admin', ko.requireScopes('admin'), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  const opt = new Router<ko.AuthState>({ prefix: '/opt' })
  opt.use(track(ko.authenticate(options(issuers.main, { optional: true }))))
  opt.get('/whoami', (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  opt.get('/read', ko.requireScopes('smd.read'), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  const opaque = new Router<ko.AuthState>({ prefix: '/opaque' })
  opaque.use(track(ko.authenticate(options(issuers.main, introspecting(issuers.main)))))
  opaque.get('/whoami', (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  opaque.get('/read', ko.requireScopes('smd.read'), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  const dpop = new Router<ko.AuthState>({ prefix: '/dpop' })
  dpop.use(track(ko.authenticate(options(issuers.main, DPOP))))
  dpop.get('/whoami', (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  dpop.get('/read', ko.requireScopes('smd.read'), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  dpop.post('/write', ko.requireScopes('smd.write'), (ctx) => {
    ctx.status = 201
    ctx.body = { written: true }
  })
  const dpopOnly = new Router<ko.AuthState>({ prefix: '/dpop-only' })
  dpopOnly.use(track(ko.authenticate(options(issuers.main, DPOP_ONLY))))
  dpopOnly.get('/read', ko.requireScopes('smd.read'), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  const dpopOpaque = new Router<ko.AuthState>({ prefix: '/dpop-opaque' })
  dpopOpaque.use(
    track(ko.authenticate(options(issuers.main, { ...DPOP, ...introspecting(issuers.main) }))),
  )
  dpopOpaque.get('/read', ko.requireScopes('smd.read'), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  const tenant = new Router<ko.AuthState>({ prefix: '/tenant' })
  tenant.use(track(ko.authenticate(tenantOptions(issuers))))
  tenant.get('/read', ko.requireScopes('smd.read'), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  // --- issue 20, item 3: /revocable ---
  const revocableRouter = new Router<ko.AuthState>({ prefix: '/revocable' })
  revocableRouter.use(track(ko.authenticate(options(issuers.main, revocable(issuers.main)))))
  revocableRouter.get('/read', ko.requireScopes('smd.read'), (ctx) => {
    ctx.body = summary(ctx.state.auth)
  })
  // --- end /revocable ---
  const routers = [root, api, opt, opaque, dpop, dpopOnly, dpopOpaque, tenant, revocableRouter]
  for (const [prefix, issuer] of [
    ['/outage', issuers.outage],
    ['/cold', issuers.cold],
  ] as const) {
    const r = new Router<ko.AuthState>({ prefix })
    r.use(track(ko.authenticate(options(issuer, { cache: false }))))
    r.get('/read', ko.requireScopes('smd.read'), (ctx) => {
      ctx.body = summary(ctx.state.auth)
    })
    routers.push(r)
  }
  routers.push(...offlineKoaRouters(issuers.main, track))
  for (const r of routers) app.use(r.routes()).use(r.allowedMethods())
  return app.callback()
}

// ─── Offline keys (issue 20, item 1) ────────────────────────────────────────────────────────────
// /static/read (keys: the main issuer's PEM keys), /keys-file/read (keysFile: its JWKS, written
// to a temporary file for this app) and /offline/key-requests, which counts the requests the two
// authenticators made through their own dispatchers: with keys given offline there must be none.

/** An Agent that counts what is dispatched through it. */
class CountingAgent extends Agent {
  count = 0
  override dispatch(options: Agent.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.count++
    return super.dispatch(options, handler)
  }
}

/** The options of the two offline routes, and their request counts. */
function offline(main: TestIssuer, track: Track) {
  const dir = mkdtempSync(join(tmpdir(), 'svcauth-conformance-'))
  const keysFile = join(dir, 'jwks.json')
  writeFileSync(keysFile, JSON.stringify(main.publicKeys()))
  const agents = { static: new CountingAgent(), keysFile: new CountingAgent() }
  // Removed with the app's authenticators.
  track({
    authenticator: {
      close: () => {
        rmSync(dir, { recursive: true, force: true })
        void agents.static.close()
        void agents.keysFile.close()
      },
    },
  })
  const { jwksUri: _fetched, ...base } = options(main)
  return {
    static: { ...base, keys: main.publicKeyPems(), dispatcher: agents.static },
    keysFile: { ...base, keysFile, dispatcher: agents.keysFile },
    requests: () => ({ static: agents.static.count, keysFile: agents.keysFile.count }),
  }
}

function mountOfflineExpress(
  express: typeof express5,
  app: ReturnType<typeof express5>,
  main: TestIssuer,
  track: Track,
) {
  const keys = offline(main, track)
  app.get('/offline/key-requests', (_req, res) => {
    res.json(keys.requests())
  })
  for (const [prefix, opts] of [
    ['/static', keys.static],
    ['/keys-file', keys.keysFile],
  ] as const) {
    const r = express.Router()
    r.use(track(ex.authenticate(opts)))
    r.get('/read', ex.requireScopes('smd.read'), (req, res) => {
      res.json(summary(req.auth))
    })
    app.use(prefix, r)
  }
}

function offlineKoaRouters(main: TestIssuer, track: Track): Router<ko.AuthState>[] {
  const keys = offline(main, track)
  const counts = new Router<ko.AuthState>()
  counts.get('/offline/key-requests', (ctx) => {
    ctx.body = keys.requests()
  })
  const routers = [counts]
  for (const [prefix, opts] of [
    ['/static', keys.static],
    ['/keys-file', keys.keysFile],
  ] as const) {
    const r = new Router<ko.AuthState>({ prefix })
    r.use(track(ko.authenticate(opts)))
    r.get('/read', ko.requireScopes('smd.read'), (ctx) => {
      ctx.body = summary(ctx.state.auth)
    })
    routers.push(r)
  }
  return routers
}
// ─── end of offline keys ──────────────────────────────────────────────────────────────────────────

export { revokedJti }
