/**
 * What the core's request flow needs to know about Express (`FrameworkBindings`): the request
 * view, where the state lives (`req`), `req.auth`, and how to answer an AuthError: the core's JSON
 * response by default, or `next(err)` so the app's error handler decides (the error carries
 * `status`, `code`, `reason` and `headers`).
 */
import { errorResponse } from '@svcauth/core'
import type { FrameworkBindings } from '@svcauth/core/internal'
import type { NextFunction, Request, Response } from 'express'
import { exposeAuth } from './request-auth.js'
import './state.js'

type ExpressBindings = FrameworkBindings<Request, Response, NextFunction>

export const EXPRESS: ExpressBindings = Object.freeze<ExpressBindings>({
  view: (req) => ({
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    url: req.originalUrl,
    body: req.body as unknown,
  }),
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
