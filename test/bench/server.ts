/**
 * One benchmark contender as its own process (so the load generator does not share its event
 * loop): `server.ts <contender> <issuer> <jwksUri>`. Every contender answers `GET /read` with a
 * small JSON body after checking the `smd.read` scope (the bare frameworks check nothing). Prints
 * the port it listens on, then serves until killed.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import process from 'node:process'
import * as svcExpress from '@svcauth/express'
import * as svcKoa from '@svcauth/koa'
import express, { type NextFunction, type Request, type Response } from 'express'
import { expressjwt } from 'express-jwt'
import { auth as auth0, requiredScopes } from 'express-oauth2-jwt-bearer'
import jwksRsa from 'jwks-rsa'
import Koa from 'koa'
import koaJwt from 'koa-jwt'
import type { Contender } from './contenders.js'

const [, , contender, issuer = '', jwksUri = ''] = process.argv
const body = { Components: [{ ID: 'x3000c0s19b1n0', State: 'Ready' }] }
// "Verified every request": svcauth's verified-token cache off, so each request pays full verification.
const options = {
  issuer,
  audience: 'smd',
  jwksUri,
  ...(process.env.BENCH_FRESH === '1' ? { cache: false as const } : {}),
}

/** The `-dpop` contenders: DPoP on, proofs checked every request (their default replay store). */
const dpopOptions = { ...options, dpop: true }

/** express-jwt and koa-jwt check no scopes: the same check svcauth's guard does, by hand. */
const hasScope = (claims: unknown): boolean => {
  const scp = (claims as { scp?: unknown } | undefined)?.scp
  return Array.isArray(scp) && scp.includes('smd.read')
}

function expressApp(): express.Express {
  const app = express()
  app.disable('x-powered-by')
  const reply = (_req: Request, res: Response) => {
    res.json(body)
  }
  switch (contender as Contender) {
    case 'svcauth-express':
    case 'svcauth-express-dpop':
      app.get(
        '/read',
        svcExpress.authenticate(contender === 'svcauth-express' ? options : dpopOptions),
        svcExpress.requireScopes('smd.read'),
        reply,
      )
      break
    case 'express-oauth2-jwt-bearer':
      app.get(
        '/read',
        auth0({ issuer, audience: 'smd', jwksUri, tokenSigningAlg: 'RS256' }),
        requiredScopes('smd.read'),
        reply,
      )
      break
    case 'express-jwt+jwks-rsa':
      app.get(
        '/read',
        expressjwt({
          secret: jwksRsa.expressJwtSecret({ jwksUri, cache: true, rateLimit: true }) as never,
          algorithms: ['RS256'],
          audience: 'smd',
          issuer,
        }),
        (req: Request, res: Response, next: NextFunction) => {
          if (hasScope((req as Request & { auth?: unknown }).auth)) next()
          else res.status(403).end()
        },
        reply,
      )
      break
    case 'bare-express':
    case 'bare-koa':
    case 'svcauth-koa':
    case 'svcauth-koa-dpop':
    case 'koa-jwt+jwks-rsa':
      app.get('/read', reply)
  }
  return app
}

function koaApp(): Koa {
  const app = new Koa()
  const reply = (ctx: Koa.Context) => {
    ctx.body = body
  }
  if (contender === 'svcauth-koa' || contender === 'svcauth-koa-dpop') {
    const authenticate = svcKoa.authenticate(contender === 'svcauth-koa' ? options : dpopOptions)
    const guard = svcKoa.requireScopes('smd.read')
    app.use(authenticate).use(guard).use(reply)
  } else if (contender === 'koa-jwt+jwks-rsa') {
    app.use(
      koaJwt({
        secret: jwksRsa.koaJwtSecret({ jwksUri, cache: true, rateLimit: true }),
        audience: 'smd',
        issuer,
        algorithms: ['RS256'],
      }),
    )
    app.use(async (ctx, next) => {
      if (hasScope((ctx.state as { user?: unknown }).user)) await next()
      else ctx.status = 403
    })
    app.use(reply)
  } else {
    app.use(reply)
  }
  return app
}

if (contender !== undefined) {
  const isKoa = contender.includes('koa')
  const handler = isKoa ? koaApp().callback() : expressApp()
  // `/__stats`: this process's CPU time and request count, so the runner can compute CPU per
  // request (stable on a shared machine, where the load generator competes for the same cores).
  let served = 0
  const server = createServer((req, res) => {
    if (req.url === '/__stats') {
      res.end(JSON.stringify({ served, cpu: process.cpuUsage() }))
      return
    }
    served++
    void (handler as (a: typeof req, b: typeof res) => unknown)(req, res)
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as AddressInfo).port}\n`)
  })
}

// Exit cleanly on a signal so `--cpu-prof` can write its profile.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0))
