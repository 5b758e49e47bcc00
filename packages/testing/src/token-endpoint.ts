/**
 * A token endpoint shaped like Ory Hydra's `POST /oauth2/token` (hydra-openchami.md §4.2, §4.3):
 * client credentials with `client_secret_basic` (form-urlencoded id and secret, RFC 6749 §2.3.1),
 * `client_secret_post` or `private_key_jwt` (RFC 7523), RFC 8693 token exchange, Hydra's response
 * shape (`token_type: "bearer"`, `expires_in: ttl - 1`) and errors (`401 invalid_client`,
 * `400 invalid_scope`), plus switches to make it misbehave. A request with a `DPoP` proof (RFC 9449
 * §5) gets a token bound to the proof key (`cnf.jkt`, `token_type: "DPoP"`); the proof is checked
 * with jose alone (its embedded key, `typ`, `htm`, `htu`, `iat`, `jti`, and the server nonce when
 * one is required: `400 use_dpop_nonce` with a `DPoP-Nonce` header), independently of svcauth.
 * Over TLS (RFC 8705), a client registered for `tls_client_auth` or `self_signed_tls_client_auth`
 * is authenticated by the certificate its connection presented (client-certificate.ts), and any
 * request that presented a certificate gets a token bound to it (`cnf["x5t#S256"]`, §3).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeJwt,
  EmbeddedJWK,
  jwtVerify,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose'
import {
  presentedCertificate,
  selfSignedAuthenticates,
  tlsClientAuthenticates,
  type PresentedCertificate,
  type RegisteredCertificate,
} from './client-certificate.js'
import { basicCredentials, playFault, readForm, sendJson, type FaultAnswers } from './http.js'

export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'

/** A client the token endpoint knows. */
export interface TestClient {
  clientId: string
  /** Accepted secrets (Hydra v2 keeps exactly one; rotation replaces it). */
  secrets?: string[]
  /** @default 'client_secret_basic' (Hydra's default) */
  authMethod?: ClientAuthMethod
  /** Scopes the client may request. @default any */
  scope?: string[]
  /** Audiences (or resources) the client may request. @default any */
  audience?: string[]
  /** Public keys for `private_key_jwt`. */
  jwks?: JWK[]
  /**
   * `tls_client_auth` (RFC 8705 §2.1.2): the subject DN the client's certificate must have, in
   * RFC 4514 order, e.g. `'CN=bss'` for `ca.issueClient({ commonName: 'bss' })`.
   */
  tlsClientAuthSubjectDn?: string
  /**
   * `self_signed_tls_client_auth` (RFC 8705 §2.2): the client's certificates, as PEM or as anything
   * with their `x5tS256` (a TestCertificate).
   */
  certificates?: readonly RegisteredCertificate[]
}

/** How the token endpoint answers. */
export type TokenMode =
  | 'ok'
  | 'down'
  | 'hang'
  | '5xx'
  | '429'
  | 'garbage'
  | 'redirect'
  | { status: number; body: string; headers?: Record<string, string> }

export interface TokenRequest {
  readonly headers: Record<string, string | string[] | undefined>
  readonly form: Record<string, string>
  /** The path it was sent to: `/oauth2/token`, or the mTLS alias `/oauth2/mtls/token`. */
  readonly path: string
  /** `x5t#S256` of the client certificate its connection presented; undefined without one. */
  readonly certificate: string | undefined
}

export interface TokenEndpointHooks {
  readonly issuer: string
  readonly tokenEndpoint: string
  /** The RFC 8705 §5 alias of the token endpoint, over TLS. */
  readonly mtlsTokenEndpoint: string | undefined
  readonly ttl: () => number
  readonly keys: JWTVerifyGetKey
  mint(opts: {
    sub: string
    clientId: string
    scope: string[]
    audience: string[]
    ttl: number
    claims?: Record<string, unknown>
  }): Promise<string>
}

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'

class OAuthFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(error)
  }
}

const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'PS256']
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

export class TokenEndpoint {
  readonly clients = new Map<string, TestClient>()
  readonly requests: TokenRequest[] = []
  hits = 0
  mode: TokenMode = 'ok'
  /** Milliseconds to wait before answering in 'ok' mode. */
  delay = 0
  readonly #hooks: TokenEndpointHooks
  readonly #seenJti = new Set<string>()
  readonly #seenProofs = new Set<string>()
  /** When set, every DPoP proof must carry this nonce (RFC 9449 §8). */
  dpopNonce: string | undefined

  constructor(hooks: TokenEndpointHooks) {
    this.#hooks = hooks
  }

  /** Answers a request to `url`: the token endpoint, or its mTLS alias. */
  handle(req: IncomingMessage, res: ServerResponse, url: string): void {
    this.hits++
    const certificate = presentedCertificate(req)
    readForm(req, (form) => {
      this.requests.push({
        headers: { ...req.headers },
        form,
        path: new URL(url).pathname,
        certificate: certificate?.x5tS256,
      })
      void this.#answer(req, res, form, url, certificate)
    })
  }

  async #answer(
    req: IncomingMessage,
    res: ServerResponse,
    form: Record<string, string>,
    url: string,
    certificate: PresentedCertificate | undefined,
  ): Promise<void> {
    if (playFault(this.mode, FAULTS, req, res)) return
    if (this.delay > 0) await new Promise((resolve) => setTimeout(resolve, this.delay))
    try {
      if (req.method !== 'POST') throw new OAuthFailure(405, 'invalid_request', 'POST only')
      const client = await this.#authenticate(req, form, certificate)
      const jkt = await this.#dpop(req, url)
      const body = await this.#grant(client, form, { jkt, x5t: certificate?.x5tS256 })
      json(res, 200, body, { 'cache-control': 'no-store', pragma: 'no-cache' })
    } catch (err) {
      if (!(err instanceof OAuthFailure)) throw err
      json(res, err.status, { error: err.error, error_description: err.description }, err.headers)
    }
  }

  async #authenticate(
    req: IncomingMessage,
    form: Record<string, string>,
    certificate: PresentedCertificate | undefined,
  ): Promise<TestClient> {
    const fail = (): never => {
      throw new OAuthFailure(
        401,
        'invalid_client',
        'Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).',
      )
    }
    const basic = basicCredentials(req.headers.authorization)
    let method: ClientAuthMethod
    let clientId: string | undefined
    let secret: string | undefined
    if (basic !== undefined) {
      method = 'client_secret_basic'
      if (basic === null) return fail()
      clientId = basic.clientId
      secret = basic.secret
    } else if (form.client_assertion !== undefined) {
      method = 'private_key_jwt'
      if (form.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
        fail()
      try {
        clientId = decodeJwt(form.client_assertion).iss
      } catch {
        fail()
      }
    } else {
      clientId = form.client_id
      secret = form.client_secret
      // RFC 8705 §2: `client_id` alone; the connection's certificate is the credential.
      const registered = clientId === undefined ? undefined : this.clients.get(clientId)?.authMethod
      method =
        secret === undefined &&
        (registered === 'tls_client_auth' || registered === 'self_signed_tls_client_auth')
          ? registered
          : 'client_secret_post'
    }
    const client = clientId === undefined ? undefined : this.clients.get(clientId)
    if (client === undefined || (client.authMethod ?? 'client_secret_basic') !== method)
      return fail()
    if (method === 'tls_client_auth') {
      if (!tlsClientAuthenticates(certificate, client.tlsClientAuthSubjectDn)) fail()
    } else if (method === 'self_signed_tls_client_auth') {
      if (!selfSignedAuthenticates(certificate, client.certificates)) fail()
    } else if (method === 'private_key_jwt') {
      try {
        const { payload } = await jwtVerify(
          form.client_assertion ?? '',
          createLocalJWKSet({ keys: client.jwks ?? [] }),
          {
            issuer: client.clientId,
            subject: client.clientId,
            audience: [
              this.#hooks.tokenEndpoint,
              this.#hooks.issuer,
              ...(this.#hooks.mtlsTokenEndpoint === undefined
                ? []
                : [this.#hooks.mtlsTokenEndpoint]),
            ],
            requiredClaims: ['jti', 'exp'],
          },
        )
        if (this.#seenJti.has(payload.jti as string)) fail()
        this.#seenJti.add(payload.jti as string)
      } catch (err) {
        if (err instanceof OAuthFailure) throw err
        fail()
      }
    } else if (secret === undefined || !(client.secrets ?? []).includes(secret)) {
      fail()
    }
    return client
  }

  /**
   * The thumbprint of a valid DPoP proof's key; undefined without a proof (RFC 9449 §5). `url` is
   * the endpoint the request was sent to, the proof's `htu`.
   */
  async #dpop(req: IncomingMessage, url: string): Promise<string | undefined> {
    const fields = req.rawHeaders.filter(
      (_, i) => i % 2 === 0 && req.rawHeaders[i]?.toLowerCase() === 'dpop',
    )
    if (fields.length === 0) return undefined
    const refuse = (description: string): never => {
      throw new OAuthFailure(400, 'invalid_dpop_proof', description)
    }
    if (fields.length > 1) refuse('More than one DPoP header.')
    let payload: Record<string, unknown>
    let jwk: JWK
    try {
      const result = await jwtVerify(String(req.headers.dpop), EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: DPOP_ALGORITHMS,
      })
      payload = result.payload
      jwk = result.protectedHeader.jwk ?? {}
    } catch {
      return refuse('The DPoP proof is not a valid signed dpop+jwt.')
    }
    if (PRIVATE_MEMBERS.some((m) => m in jwk)) refuse('The DPoP proof key must be public.')
    const now = Math.floor(Date.now() / 1000)
    const { jti, htm, htu, iat } = payload
    if (typeof jti !== 'string' || typeof iat !== 'number') refuse('jti and iat are required.')
    if (htm !== 'POST' || htu !== url) refuse('htm or htu does not match.')
    if (Math.abs(now - (iat as number)) > 60)
      refuse('The DPoP proof is too old or from the future.')
    if (this.dpopNonce !== undefined && payload.nonce !== this.dpopNonce) {
      throw new OAuthFailure(400, 'use_dpop_nonce', 'Use the DPoP-Nonce.', {
        'dpop-nonce': this.dpopNonce,
      })
    }
    if (this.#seenProofs.has(jti as string)) refuse('The DPoP proof was used before.')
    this.#seenProofs.add(jti as string)
    return calculateJwkThumbprint(jwk, 'sha256')
  }

  /**
   * Issues the grant; `bound` holds the DPoP key thumbprint (RFC 9449 §6.1) and the client
   * certificate's (RFC 8705 §3.1) the token is bound to, when the request proved or presented one.
   */
  async #grant(
    client: TestClient,
    form: Record<string, string>,
    bound: { readonly jkt: string | undefined; readonly x5t: string | undefined },
  ): Promise<Record<string, unknown>> {
    const scope = (form.scope ?? '').split(' ').filter(Boolean)
    for (const s of scope) {
      if (client.scope !== undefined && !client.scope.includes(s)) {
        throw new OAuthFailure(
          400,
          'invalid_scope',
          `The OAuth 2.0 Client is not allowed to request scope '${s}'.`,
        )
      }
    }
    const audience = [
      ...(form.audience ?? '').split(' '),
      ...(form.resource ?? '').split(' '),
    ].filter(Boolean)
    for (const a of audience) {
      if (client.audience !== undefined && !client.audience.includes(a)) {
        throw new OAuthFailure(
          400,
          'invalid_request',
          `Requested audience '${a}' has not been whitelisted by the OAuth 2.0 Client.`,
        )
      }
    }
    const ttl = this.#hooks.ttl()
    const base = { clientId: client.clientId, scope, audience, ttl }
    // A DPoP-bound token names its key (RFC 9449 §6.1) and its type (§5); a certificate-bound
    // one its certificate (RFC 8705 §3.1), and stays a Bearer token.
    const { jkt, x5t } = bound
    const cnf =
      jkt === undefined && x5t === undefined
        ? {}
        : {
            cnf: {
              ...(jkt === undefined ? {} : { jkt }),
              ...(x5t === undefined ? {} : { 'x5t#S256': x5t }),
            },
          }
    const tokenType = jkt === undefined ? 'bearer' : 'DPoP'
    if (form.grant_type === 'client_credentials') {
      const token = await this.#hooks.mint({ ...base, sub: client.clientId, claims: cnf })
      return {
        access_token: token,
        expires_in: ttl - 1,
        scope: scope.join(' '),
        token_type: tokenType,
      }
    }
    if (form.grant_type === TOKEN_EXCHANGE) {
      if (form.subject_token_type !== ACCESS_TOKEN_TYPE || form.subject_token === undefined) {
        throw new OAuthFailure(400, 'invalid_request', 'subject_token and its type are required')
      }
      let subject: Record<string, unknown>
      try {
        subject = (
          await jwtVerify(form.subject_token, this.#hooks.keys, { issuer: this.#hooks.issuer })
        ).payload
      } catch {
        throw new OAuthFailure(400, 'invalid_grant', 'The subject token is not valid.')
      }
      const token = await this.#hooks.mint({
        ...base,
        sub: String(subject.sub),
        claims: { act: { sub: client.clientId }, ...cnf },
      })
      return {
        access_token: token,
        issued_token_type: ACCESS_TOKEN_TYPE,
        expires_in: ttl - 1,
        scope: scope.join(' '),
        token_type: tokenType,
      }
    }
    throw new OAuthFailure(400, 'unsupported_grant_type', 'The grant type is not supported.')
  }
}

/** Hydra answers `application/json;charset=UTF-8`. */
function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, body, { 'content-type': 'application/json;charset=UTF-8', ...headers })
}

/** The token endpoint's own faults (`hang`, `down` and scripted answers are shared). */
const FAULTS: FaultAnswers<Exclude<TokenMode, object>> = {
  '5xx': (res) => {
    json(res, 500, { error: 'server_error', error_description: 'down' })
  },
  '429': (res) => {
    json(res, 429, { error: 'too_many_requests' }, { 'retry-after': '1' })
  },
  garbage: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{'),
  redirect: (res) => res.writeHead(307, { location: 'http://127.0.0.2:9/steal' }).end(),
}
