/**
 * Client registration on the test issuer, in both shapes svcauth supports: RFC 7591/7592 dynamic
 * registration at `/oauth2/register[/{id}]` (Hydra's public path; `registration_access_token`,
 * optional initial access token) and Hydra's admin API at `/admin/clients[/{id}]` (no auth, a 409
 * for an existing `client_id`, `POST /admin/clients/{id}/secrets/rotate`). Registered clients are
 * added to the token endpoint, so they can get tokens at once.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readBody, sendJson } from './http.js'
import type { ClientAuthMethod, TestClient } from './token-endpoint.js'

interface Registration {
  readonly clientId: string
  secret: string
  registrationAccessToken: string
  metadata: Record<string, unknown>
}

export class RegistrationEndpoint {
  readonly #registrations = new Map<string, Registration>()
  readonly #origin: () => string
  readonly #clients: Map<string, TestClient>
  /** When set, RFC 7591 requests need `Authorization: Bearer <this>`. */
  initialAccessToken: string | undefined
  /** When false, secret rotation is not offered (404), as in released Hydra v2. */
  rotation = true
  hits = 0

  constructor(origin: () => string, clients: Map<string, TestClient>) {
    this.#origin = origin
    this.#clients = clients
  }

  /** True when this endpoint answers `path`. */
  handles(path: string): boolean {
    return path.startsWith('/oauth2/register') || path.startsWith('/admin/clients')
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.hits++
    readBody(req, ({ text, tooLarge }) => {
      if (tooLarge) {
        send(res, 413, { error: 'invalid_request', error_description: 'body too large' })
        return
      }
      try {
        this.#route(req, res, text)
      } catch {
        send(res, 500, { error: 'server_error' })
      }
    })
  }

  #route(req: IncomingMessage, res: ServerResponse, text: string): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const method = req.method ?? 'GET'
    const admin = path.startsWith('/admin/clients')
    const rest = path.replace(admin ? /^\/admin\/clients\/?/ : /^\/oauth2\/register\/?/, '')
    const [rawId, ...tail] = rest.split('/')
    const id = rawId === undefined || rawId === '' ? undefined : decodeURIComponent(rawId)
    let body: Record<string, unknown> = {}
    if (text !== '') {
      try {
        const parsed: unknown = JSON.parse(text)
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error()
        body = parsed as Record<string, unknown>
      } catch {
        send(res, 400, { error: 'invalid_client_metadata', error_description: 'not a JSON object' })
        return
      }
    }
    if (id === undefined) {
      if (method !== 'POST') {
        send(res, 405, { error: 'invalid_request' })
        return
      }
      if (!admin && this.initialAccessToken !== undefined) {
        if (req.headers.authorization !== `Bearer ${this.initialAccessToken}`) {
          send(res, 401, {
            error: 'invalid_token',
            error_description: 'initial access token required',
          })
          return
        }
      }
      this.#create(res, body, admin)
      return
    }
    const reg = this.#registrations.get(id)
    if (
      !admin &&
      (reg === undefined || req.headers.authorization !== `Bearer ${reg.registrationAccessToken}`)
    ) {
      // RFC 7592 §2: an unknown client or a wrong token are both 401.
      send(res, 401, { error: 'invalid_token' })
      return
    }
    if (reg === undefined) {
      send(res, 404, { error: 'Not Found', error_description: 'Unable to locate the resource' })
      return
    }
    if (admin && tail.join('/') === 'secrets/rotate') {
      if (!this.rotation || method !== 'POST') {
        send(res, 404, { error: 'Not Found' })
        return
      }
      this.#setSecret(reg, randomSecret(), true)
      send(res, 200, this.#view(reg, admin, true))
      return
    }
    if (method === 'GET') {
      // Hydra shows a secret only when it is created or set; RFC 7592 reads include it.
      send(res, 200, this.#view(reg, admin, !admin))
      return
    }
    if (method === 'DELETE') {
      this.#registrations.delete(id)
      this.#clients.delete(id)
      res.writeHead(204).end()
      return
    }
    if (method === 'PUT') {
      const { client_secret: secret, client_id: _id, ...metadata } = body
      const problem = checkMetadata(metadata)
      if (problem !== undefined) {
        send(res, 400, { error: 'invalid_client_metadata', error_description: problem })
        return
      }
      reg.metadata = metadata
      // Hydra's admin API keeps or sets the secret it is given; RFC 7592 servers may rotate it,
      // and this one does when the request leaves it out.
      if (typeof secret === 'string' && secret !== '') this.#setSecret(reg, secret, false)
      else if (!admin) this.#setSecret(reg, randomSecret(), false)
      this.#sync(reg)
      send(res, 200, this.#view(reg, admin, !admin || typeof secret === 'string'))
      return
    }
    send(res, 405, { error: 'invalid_request' })
  }

  #create(res: ServerResponse, body: Record<string, unknown>, admin: boolean): void {
    const { client_secret: askedSecret, client_id: askedId, ...metadata } = body
    const problem = checkMetadata(metadata)
    if (problem !== undefined) {
      send(res, 400, { error: 'invalid_client_metadata', error_description: problem })
      return
    }
    // Hydra's admin API lets the caller choose the id (and the secret); DCR never does.
    const clientId = admin && typeof askedId === 'string' && askedId !== '' ? askedId : randomUUID()
    if (this.#registrations.has(clientId) || this.#clients.has(clientId)) {
      send(res, 409, {
        error:
          'Unable to insert or update resource because a resource with that value exists already',
      })
      return
    }
    const reg: Registration = {
      clientId,
      secret:
        admin && typeof askedSecret === 'string' && askedSecret !== ''
          ? askedSecret
          : randomSecret(),
      registrationAccessToken: randomSecret(),
      metadata,
    }
    this.#registrations.set(clientId, reg)
    this.#sync(reg)
    send(res, 201, this.#view(reg, admin, true))
  }

  #setSecret(reg: Registration, secret: string, keepOld: boolean): void {
    const old = reg.secret
    reg.secret = secret
    this.#sync(reg, keepOld ? [old] : [])
  }

  #sync(reg: Registration, previous: string[] = []): void {
    const m = reg.metadata
    const scope = typeof m.scope === 'string' ? m.scope.split(' ').filter(Boolean) : undefined
    const audience = Array.isArray(m.audience) ? (m.audience as string[]) : undefined
    this.#clients.set(reg.clientId, {
      clientId: reg.clientId,
      secrets: [reg.secret, ...previous],
      authMethod:
        typeof m.token_endpoint_auth_method === 'string'
          ? (m.token_endpoint_auth_method as ClientAuthMethod)
          : 'client_secret_basic',
      ...(scope === undefined ? {} : { scope }),
      ...(audience === undefined ? {} : { audience }),
    })
  }

  #view(reg: Registration, admin: boolean, withSecret: boolean): Record<string, unknown> {
    return {
      ...reg.metadata,
      client_id: reg.clientId,
      ...(withSecret ? { client_secret: reg.secret } : {}),
      client_secret_expires_at: 0,
      token_endpoint_auth_method: reg.metadata.token_endpoint_auth_method ?? 'client_secret_basic',
      registration_access_token: reg.registrationAccessToken,
      registration_client_uri: `${this.#origin()}/oauth2/register/${encodeURIComponent(reg.clientId)}`,
      ...(admin ? {} : { client_id_issued_at: Math.floor(Date.now() / 1000) }),
    }
  }
}

function checkMetadata(m: Record<string, unknown>): string | undefined {
  if (m.grant_types !== undefined && !isStrings(m.grant_types)) return 'grant_types must be strings'
  if (m.scope !== undefined && typeof m.scope !== 'string') return 'scope must be a string'
  if (m.audience !== undefined && !isStrings(m.audience)) return 'audience must be strings'
  const method = m.token_endpoint_auth_method
  if (
    method !== undefined &&
    !['client_secret_basic', 'client_secret_post', 'private_key_jwt'].includes(method as string)
  ) {
    return 'unsupported token_endpoint_auth_method'
  }
  return undefined
}

function isStrings(v: unknown): boolean {
  return Array.isArray(v) && v.every((x) => typeof x === 'string')
}

function randomSecret(): string {
  return randomBytes(24).toString('base64url')
}

/** Registration answers carry secrets, so they are never cached (as in RFC 7591 §3.2.1). */
function send(res: ServerResponse, status: number, body: unknown): void {
  sendJson(res, status, body, { 'cache-control': 'no-store' })
}
