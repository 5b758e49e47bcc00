/**
 * Opaque access tokens and an introspection endpoint shaped like Ory Hydra's (hydra-openchami.md
 * §4.5): tokens look like `ory_at_<key>.<signature>`; `POST /admin/oauth2/introspect` with the
 * form `token=…[&scope=…]` answers `{"active":true,"scope":"a b","client_id":…,"sub":…,"exp":…,
 * "iat":…,"nbf":…,"aud":[],"iss":…,"token_type":"Bearer","token_use":"access_token"}`, and
 * `{"active":false}` for unknown, expired or revoked tokens, or when a requested scope was not
 * granted. An empty body is `400 invalid_request`. Hydra's admin API has no authentication; the
 * kit can require client credentials to test callers that send them.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  basicCredentials,
  playFault,
  readForm,
  sendJson as json,
  type FaultAnswers,
} from './http.js'
import { confirmation } from './minting.js'

/** How the introspection endpoint answers. */
export type IntrospectionMode =
  'ok' | 'down' | 'hang' | '5xx' | 'garbage' | { status: number; body: string }

export interface OpaqueTokenOptions {
  readonly clientId: string
  /** The user; defaults to the client id (a client-credentials token). */
  readonly sub?: string
  readonly scope?: readonly string[]
  readonly audience?: readonly string[]
  /** Lifetime in seconds; negative values make an already-expired token. */
  readonly ttl?: number
  /** Extra fields merged into the introspection answer (`ext`, `username`, `token_use`, …). */
  readonly claims?: Record<string, unknown>
  /**
   * Bind the token to a DPoP key (RFC 9449 §6.2): the answer says `token_type: 'DPoP'` and carries
   * `cnf.jkt`.
   */
  readonly dpop?: { readonly jkt: string }
  /** Bind the token to a client certificate (RFC 8705 §3.2): the answer carries `cnf["x5t#S256"]`. */
  readonly mtls?: { readonly x5tS256: string }
}

export interface IntrospectionRequest {
  readonly headers: Record<string, string | string[] | undefined>
  readonly form: Record<string, string>
}

interface Entry {
  readonly answer: Record<string, unknown>
  readonly scope: ReadonlySet<string>
  revoked: boolean
}

export class OpaqueTokens {
  readonly requests: IntrospectionRequest[] = []
  mode: IntrospectionMode = 'ok'
  /** Client credentials the endpoint requires (basic or post); undefined: none, as in Hydra. */
  auth: { clientId: string; secret: string } | undefined
  readonly #tokens = new Map<string, Entry>()
  readonly #issuer: string
  readonly #ttl: () => number

  constructor(issuer: string, ttl: () => number) {
    this.#issuer = issuer
    this.#ttl = ttl
  }

  get hits(): number {
    return this.requests.length
  }

  mint(opts: OpaqueTokenOptions): string {
    const token = `ory_at_${randomBytes(32).toString('base64url')}.${randomBytes(32).toString('base64url')}`
    const now = Math.floor(Date.now() / 1000)
    const ttl = opts.ttl ?? this.#ttl()
    const scope = [...(opts.scope ?? [])]
    const answer: Record<string, unknown> = {
      active: true,
      scope: scope.join(' '),
      client_id: opts.clientId,
      sub: opts.sub ?? opts.clientId,
      exp: now + ttl,
      iat: ttl < 0 ? now + ttl - 60 : now,
      nbf: ttl < 0 ? now + ttl - 60 : now,
      aud: [...(opts.audience ?? [])],
      iss: this.#issuer,
      token_type: opts.dpop === undefined ? 'Bearer' : 'DPoP',
      token_use: 'access_token',
      ...confirmation(opts),
      ...opts.claims,
    }
    this.#tokens.set(token, { answer, scope: new Set(scope), revoked: false })
    return token
  }

  revoke(token: string): void {
    const entry = this.#tokens.get(token)
    if (entry !== undefined) entry.revoked = true
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    readForm(req, (form) => {
      this.requests.push({ headers: { ...req.headers }, form })
      this.#answer(req, res, form)
    })
  }

  #answer(req: IncomingMessage, res: ServerResponse, form: Record<string, string>): void {
    if (playFault(this.mode, FAULTS, req, res)) return
    if (req.method !== 'POST') {
      json(res, 405, { error: 'invalid_request' })
      return
    }
    if (this.auth !== undefined && !this.#authenticated(req, form)) {
      json(res, 401, {
        error: 'invalid_client',
        error_description: 'Client authentication failed.',
      })
      return
    }
    const token = form.token
    if (token === undefined || token === '') {
      json(res, 400, {
        error: 'invalid_request',
        error_description: 'The request is missing a required parameter.',
      })
      return
    }
    const entry = this.#tokens.get(token)
    const now = Math.floor(Date.now() / 1000)
    const wanted = (form.scope ?? '').split(' ').filter((s) => s !== '')
    if (
      entry === undefined ||
      entry.revoked ||
      (entry.answer.exp as number) <= now ||
      !wanted.every((s) => entry.scope.has(s))
    ) {
      json(res, 200, { active: false })
      return
    }
    json(res, 200, entry.answer)
  }

  #authenticated(req: IncomingMessage, form: Record<string, string>): boolean {
    const auth = this.auth
    if (auth === undefined) return true
    const basic = basicCredentials(req.headers.authorization)
    if (basic !== undefined)
      return basic !== null && basic.clientId === auth.clientId && basic.secret === auth.secret
    return form.client_id === auth.clientId && form.client_secret === auth.secret
  }
}

/** The introspection endpoint's own faults (`hang`, `down` and scripted answers are shared). */
const FAULTS: FaultAnswers<Exclude<IntrospectionMode, object>> = {
  '5xx': (res) => {
    json(res, 500, { error: 'server_error' })
  },
  garbage: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>'),
}
