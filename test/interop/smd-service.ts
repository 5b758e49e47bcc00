/**
 * The SMD-like service the interop tests call, on Express or Koa: `GET` (needs `smd.read`) and
 * `POST` (needs `smd.write`) `/hsm/v2/State/Components`, each answering `summary(principal)`.
 * Everything it starts is closed through `closers`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Principal } from '@svcauth/core'
import * as ex from '@svcauth/express'
import * as ko from '@svcauth/koa'
import Router from '@koa/router'
import express from 'express'
import Koa from 'koa'

export type Closers = (() => Promise<void> | void)[]

/** Starts the service on a loopback port; resolves its origin. */
export async function startSmd(
  framework: 'Express' | 'Koa',
  options: ex.AuthenticateOptions,
  summary: (principal: Principal | undefined) => unknown,
  closers: Closers,
  /** Serve HTTPS with this certificate, asking clients for theirs (mutual TLS). */
  tls?: { readonly cert: string; readonly key: string; readonly ca: string },
): Promise<string> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void
  if (framework === 'Express') {
    const app = express()
    const auth = ex.authenticate(options)
    closers.push(() => {
      auth.authenticator.close()
    })
    app.use(auth)
    app.get('/hsm/v2/State/Components', ex.requireScopes('smd.read'), (req, res) => {
      res.json(summary(req.auth))
    })
    app.post('/hsm/v2/State/Components', ex.requireScopes('smd.write'), (req, res) => {
      res.status(201).json(summary(req.auth))
    })
    handler = app
  } else {
    const app = new Koa<ko.AuthState>()
    const auth = ko.authenticate(options)
    closers.push(() => {
      auth.authenticator.close()
    })
    const router = new Router<ko.AuthState>()
    router.get('/hsm/v2/State/Components', ko.requireScopes('smd.read'), (ctx) => {
      ctx.body = summary(ctx.state.auth)
    })
    router.post('/hsm/v2/State/Components', ko.requireScopes('smd.write'), (ctx) => {
      ctx.status = 201
      ctx.body = summary(ctx.state.auth)
    })
    app.use(auth).use(router.routes())
    const callback = app.callback()
    handler = (req, res) => {
      void callback(req, res)
    }
  }
  const server: Server =
    tls === undefined
      ? createServer(handler)
      : createHttpsServer({ ...tls, requestCert: true, rejectUnauthorized: false }, handler)
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
  const scheme = tls === undefined ? 'http' : 'https'
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`
}
