/**
 * An SMD-style inventory service (OpenCHAMI's State Management Database, API root `/hsm/v2`) on
 * Express, protected by svcauth. Routes and JSON shapes follow real SMD; where it differs:
 * - real SMD enforces no scopes and leaves `GET /State/Components` and
 *   `GET /Inventory/EthernetInterfaces` (the collections) public; here every route but
 *   `/service/ready` needs a token and reads need `smd.read`, writes `smd.write`;
 * - real SMD answers auth failures as plain text without `WWW-Authenticate`; here they are
 *   RFC 6750 (401 with a challenge, 403 `insufficient_scope`), still 401 for a missing token,
 *   which is what BSS probes `/Inventory/RedfishEndpoints` for;
 * - the data lives in memory; only the routes below exist.
 * Other failures are RFC 7807 problem details, as in SMD.
 */
import {
  auditLogger,
  authenticate,
  requireScopes,
  type AuditLoggerOptions,
  type AuthenticateOptions,
} from '@svcauth/express'
import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type Response,
} from 'express'
import type { Logger } from 'pino'
import { seed, type Component } from './data.js'

export interface SmdOptions {
  /** How callers are authenticated (issuer, audience, …). */
  readonly auth: AuthenticateOptions
  /** Audit logging options (`stream`, `logger`, …). */
  readonly audit?: AuditLoggerOptions
}

export interface Smd {
  readonly app: Express
  readonly logger: Logger
  /** Stops the authenticator's background key refresh. */
  close(): void
}

/** RFC 7807 problem details, as SMD's hms-base `SendProblemDetailsGeneric` writes them. */
export function problem(res: Response, status: number, title: string, detail: string): void {
  res
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: 'about:blank', title, detail, status }))
}

const TYPES = new Set(['Node', 'NodeBMC', 'Chassis', 'Cabinet'])

/**
 * Builds the service.
 *
 * @example
 * ```ts
 * const smd = createSmdApp({ auth: { issuer: 'https://hydra.example/', audience: 'smd' } })
 * smd.app.listen(27779)
 * ```
 */
export function createSmdApp(options: SmdOptions): Smd {
  const data = seed()
  const app = express()
  const audit = auditLogger(options.audit)
  app.use(audit)
  app.use(express.json({ limit: '1mb' }))
  const api = express.Router({ strict: false })

  api.get('/service/ready', (_req, res) => {
    res.json({ code: 0, message: 'HSM is healthy' })
  })
  const authn = authenticate(options.auth)
  api.use(authn)

  const byType = (req: Request, res: Response): string | undefined | false => {
    const type = req.query.type
    if (type === undefined) return undefined
    if (typeof type !== 'string' || !TYPES.has(type)) {
      problem(res, 400, 'Bad Request', 'bad query param: Argument was not a valid HMS Type')
      return false
    }
    return type
  }

  api.get('/State/Components', requireScopes('smd.read'), (req, res) => {
    const type = byType(req, res)
    if (type === false) return
    res.json({ Components: data.components.filter((c) => type === undefined || c.Type === type) })
  })
  api.get('/State/Components/:xname', requireScopes('smd.read'), (req, res) => {
    const component = data.components.find((c) => c.ID === req.params.xname)
    if (component === undefined) {
      problem(res, 404, 'Not Found', 'no such xname.')
      return
    }
    res.json(component)
  })
  api.post('/State/Components', requireScopes('smd.write'), (req, res) => {
    const body = req.body as { Components?: unknown } | undefined
    const list = body?.Components
    if (!Array.isArray(list) || !list.every(isComponentInput)) {
      problem(res, 400, 'Bad Request', 'error decoding JSON: Components with ID and State required')
      return
    }
    for (const input of list) {
      const existing = data.components.find((c) => c.ID === input.ID)
      if (existing !== undefined) existing.State = input.State
      else data.components.push({ ...defaults(input.ID), ...input })
      req.audit?.('component_updated', { target: input.ID, state: input.State })
    }
    res.status(204).end()
  })
  api.get('/Inventory/EthernetInterfaces', requireScopes('smd.read'), (req, res) => {
    const type = byType(req, res)
    if (type === false) return
    res.json(data.interfaces.filter((i) => type === undefined || i.Type === type))
  })
  api.get('/Inventory/ComponentEndpoints', requireScopes('smd.read'), (_req, res) => {
    res.json({ ComponentEndpoints: data.componentEndpoints })
  })
  api.get('/Inventory/RedfishEndpoints', requireScopes('smd.read'), (_req, res) => {
    res.json({ RedfishEndpoints: data.redfishEndpoints })
  })

  app.use('/hsm/v2', api)
  app.use((req, res) => {
    problem(res, 404, 'Not Found', `no route for ${req.method} ${req.path}`)
  })
  const onError: ErrorRequestHandler = (
    err: { status?: unknown; type?: unknown },
    _req,
    res,
    next,
  ) => {
    if (res.headersSent) {
      next(err)
      return
    }
    if (err.type === 'entity.parse.failed') {
      problem(res, 400, 'Bad Request', 'error decoding JSON')
      return
    }
    problem(res, 500, 'Internal Server Error', 'internal error')
  }
  app.use(onError)
  return {
    app,
    logger: audit.logger,
    close: () => {
      authn.authenticator.close()
    },
  }
}

function isComponentInput(
  value: unknown,
): value is Pick<Component, 'ID' | 'State'> & Partial<Component> {
  if (typeof value !== 'object' || value === null) return false
  const { ID, State } = value as Record<string, unknown>
  return (
    typeof ID === 'string' &&
    /^x\d+(c\d+)?(s\d+)?(b\d+)?(n\d+)?$/.test(ID) &&
    typeof State === 'string'
  )
}

function defaults(ID: string): Component {
  return {
    ID,
    Type: 'Node',
    State: 'Empty',
    Flag: 'OK',
    Enabled: true,
    Role: 'Compute',
    NID: 0,
    NetType: 'Sling',
    Arch: 'X86',
    Class: 'River',
  }
}
