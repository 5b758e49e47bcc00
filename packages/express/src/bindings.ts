/**
 * What the core's request flow needs to know about Express (`FrameworkBindings`): the request
 * view, where the state lives (`req`), `req.auth`, and how to answer an AuthError: the core's JSON
 * response by default, or `next(err)` so the app's error handler decides (the error carries
 * `status`, `code`, `reason` and `headers`).
 */
import { errorResponse, type PeerSocket, type RequestLike } from '@svcauth/core'
import type { FrameworkBindings } from '@svcauth/core/internal'
import type { NextFunction, Request, Response } from 'express'
import { exposeAuth } from './request-auth.js'
import './state.js'

type ExpressBindings = FrameworkBindings<Request, Response, NextFunction>

/**
 * The request as the core reads it. `method` and `origin` are read only when a DPoP proof is
 * checked (its `htm` and `htu`), so a Bearer request pays nothing for them. `origin` is read
 * the way Express reads its own request under its `trust proxy` setting: `req.protocol`, and the
 * `X-Forwarded-Host` (its first value) only from a trusted proxy, else `Host`. Express 4's
 * `req.hostname` drops the port and Express 5's `req.host` keeps it, so the host is read here the
 * same way for both, with its port.
 */
class ExpressView implements RequestLike {
  readonly headers: Request['headers']
  readonly rawHeaders: readonly string[]
  readonly url: string
  readonly body: unknown
  readonly #req: Request

  constructor(req: Request) {
    this.headers = req.headers
    this.rawHeaders = req.rawHeaders
    this.url = req.originalUrl
    this.body = req.body as unknown
    this.#req = req
  }

  get method(): string {
    return this.#req.method
  }

  /** The connection: its peer certificate (mutual TLS) and address (trusted proxies). */
  get socket(): PeerSocket {
    return this.#req.socket
  }

  get origin(): string | undefined {
    const req = this.#req
    const trust = req.app.get('trust proxy fn') as
      ((address: string | undefined, hop: number) => boolean) | undefined
    let host = req.get('X-Forwarded-Host')
    if (host === undefined || trust?.(req.socket.remoteAddress, 0) !== true) host = req.get('Host')
    else host = host.split(',', 1)[0]?.trim()
    return host === undefined ? undefined : `${req.protocol}://${host}`
  }
}

export const EXPRESS: ExpressBindings = Object.freeze<ExpressBindings>({
  view: (req) => new ExpressView(req),
  host: (req) => req,
  expose(req, principal): void {
    exposeAuth(req, principal)
  },
  answer(_req, res, _next, error): void {
    const { status, headers, body } = errorResponse(error)
    res.status(status).set(headers).json(body)
  },
  handOff(_req, _res, next, error): void {
    next(error)
  },
})
