/**
 * `outbound(svc)`: puts `req.outbound.fetch` / `req.outbound.request` on the request, bound to the
 * request's caller, so a user's token reaches the targets that accept it and everything else gets
 * the service's own token.
 */
import type { ServiceClient } from '@svcauth/client'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import './state.js'

/**
 * Exposes the service client on each request, bound to `req.auth`. Mount it after authenticate().
 *
 * @example
 * ```ts
 * app.use(authenticate({ issuer, audience: 'bss', jwksUri }), outbound(svc))
 * app.get('/boot/v1/bootparameters', async (req, res) => {
 *   const smd = await req.outbound!.fetch('http://smd:27779/hsm/v2/State/Components')
 *   res.json(await smd.json())
 * })
 * ```
 */
export function outbound(svc: ServiceClient): RequestHandler {
  return function outbound(req: Request, res: Response, next: NextFunction): void {
    req.outbound = svc.forPrincipal(req.auth, res)
    next()
  }
}
