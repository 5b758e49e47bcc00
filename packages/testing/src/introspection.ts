/**
 * Opaque access tokens and an introspection endpoint shaped like Ory Hydra's (hydra-openchami.md
 * §4.5): tokens look like `ory_at_<key>.<signature>`; `POST /admin/oauth2/introspect` with the
 * form `token=…[&scope=…]` answers `{"active":true,"scope":"a b","client_id":…,"sub":…,"exp":…,
 * "iat":…,"nbf":…,"aud":[],"iss":…,"token_type":"Bearer","token_use":"access_token"}`, and
 * `{"active":false}` for unknown, expired or revoked tokens, or when a requested scope was not
 * granted. An empty body is `400 invalid_request`. Hydra's admin API has no authentication; the
 * kit can require client credentials to test callers that send them.
 *
 * Hydra introspects its JWT access tokens too (it keeps their signatures), which is what a
 * service that introspects JWTs relies on (issue 20, item 3): a JWT this issuer signed with a key
 * it publishes, unexpired and not revoked, is answered in the same shape from its own claims
 * (`scp` joined into `scope`; `token_type: DPoP` when it carries `cnf.jkt`).
 */
import { createHash, randomBytes } from 'node:crypto'
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

/** The verified claims of a JWT this issuer signed (signature, `iss`, `exp`), or undefined. */
export type OwnJwtClaims = (token: string) => Promise<Record<string, unknown> | undefined>

export class OpaqueTokens {
  readonly requests: IntrospectionRequest[] = []
  mode: IntrospectionMode = 'ok'
  /** Client credentials the endpoint requires (basic or post); undefined: none, as in Hydra. */
  auth: { clientId: string; secret: string } | undefined
  readonly #tokens = new Map<string, Entry>()
  /** SHA-256 of each revoked JWT (a JWT is not stored when minted, so it is marked when revoked). */
  readonly #revokedJwts = new Set<string>()
  readonly #issuer: string
  readonly #ttl: () => number
  readonly #ownJwt: OwnJwtClaims

  constructor(issuer: string, ttl: () => number, ownJwt: OwnJwtClaims) {
    this.#issuer = issuer
    this.#ttl = ttl
    this.#ownJwt = ownJwt
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

  /** Revokes an opaque token or a JWT: the endpoint answers `{"active":false}` for it from now on. */
  revoke(token: string): void {
    const entry = this.#tokens.get(token)
    if (entry !== undefined) entry.revoked = true
    else this.#revokedJwts.add(hash(token))
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    readForm(req, (form) => {
      this.requests.push({ headers: { ...req.headers }, form })
      this.#answer(req, res, form).catch(() => {
        if (!res.headersSent) json(res, 500, { error: 'server_error' })
      })
    })
  }

  async #answer(
    req: IncomingMessage,
    res: ServerResponse,
    form: Record<string, string>,
  ): Promise<void> {
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
    const entry = this.#tokens.get(token) ?? (await this.#jwtEntry(token))
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

  /** Hydra's answer for one of this issuer's JWTs, from its verified claims; undefined if not one. */
  async #jwtEntry(token: string): Promise<Entry | undefined> {
    if (token.split('.').length !== 3) return undefined
    const claims = await this.#ownJwt(token)
    if (claims === undefined) return undefined
    const scope =
      Array.isArray(claims.scp) && claims.scp.every((s) => typeof s === 'string')
        ? claims.scp
        : typeof claims.scope === 'string'
          ? claims.scope.split(' ').filter((s) => s !== '')
          : []
    const cnf = claims.cnf as Record<string, unknown> | undefined
    const answer: Record<string, unknown> = {
      active: true,
      scope: scope.join(' '),
      client_id: claims.client_id,
      sub: claims.sub,
      exp: claims.exp,
      iat: claims.iat,
      nbf: claims.nbf,
      aud: claims.aud,
      iss: claims.iss,
      token_type: typeof cnf?.jkt === 'string' ? 'DPoP' : 'Bearer',
      token_use: 'access_token',
      ...(cnf === undefined ? {} : { cnf }),
    }
    return { answer, scope: new Set(scope), revoked: this.#revokedJwts.has(hash(token)) }
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

function hash(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}
