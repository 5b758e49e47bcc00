/**
 * An in-process OAuth 2.0 / OIDC issuer for tests, on loopback: discovery metadata (OIDC and
 * RFC 8414), a JWKS that can be made to fail, hang, stall, redirect or return garbage, key
 * rotation, token minting shaped like Ory Hydra's JWT access tokens (or RFC 9068 `at+jwt`), Hydra's
 * opaque `ory_at_…` tokens with its introspection endpoint, and a Hydra-shaped token endpoint.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { createLocalJWKSet, generateKeyPair, SignJWT, type JSONWebKeySet } from 'jose'
import {
  OpaqueTokens,
  type IntrospectionMode,
  type IntrospectionRequest,
  type OpaqueTokenOptions,
} from './introspection.js'
import { createSigningKey, signRawWith, type SigningKey } from './keys.js'
import { RegistrationEndpoint } from './registration.js'
import {
  TokenEndpoint,
  type TestClient,
  type TokenMode,
  type TokenRequest,
} from './token-endpoint.js'

/** How the JWKS endpoint answers. */
export type JwksMode =
  | 'ok'
  | 'fail'
  | 'hang'
  | 'garbage'
  | 'stall-body'
  | 'redirect'
  | { status: number; body: string; headers?: Record<string, string> }

/** How the discovery endpoints answer. */
export type DiscoveryMode = 'ok' | 'fail' | 'hang' | { status: number; body: string }

export interface TestIssuerOptions {
  /** @default '127.0.0.1' */
  host?: string
  /** @default 0 (a free port) */
  port?: number
  /** Issuer string ends with '/', like OpenCHAMI's Hydra. @default false */
  trailingSlash?: boolean
  /** RSA keys published at start (Hydra publishes two). @default 2 */
  keyCount?: number
  /** RSA modulus length. @default 2048 */
  modulusLength?: number
  /** Token lifetime, seconds. @default 3600 */
  tokenTtl?: number
  /** Serve discovery metadata. @default true */
  discovery?: boolean
  /** What the token endpoint issues: Hydra's `jwt` strategy, or its default `opaque` one. @default 'jwt' */
  accessTokenFormat?: 'jwt' | 'opaque'
}

interface MintOptions {
  scope?: readonly string[]
  audience?: readonly string[]
  /** Lifetime in seconds; negative values mint already-expired tokens. */
  ttl?: number
  /** Extra claims merged over the defaults; a claim set to undefined is removed. */
  claims?: Record<string, unknown>
  /** Extra header parameters merged over the defaults. */
  header?: Record<string, unknown>
  /** Sign with this (possibly unpublished) key. */
  kid?: string
}

export interface TestIssuer {
  readonly issuer: string
  readonly origin: string
  readonly jwksUri: string
  /** `POST /oauth2/token`, shaped like Hydra's. */
  readonly tokenEndpoint: string
  readonly hits: {
    readonly jwks: number
    readonly discovery: number
    readonly evil: number
    readonly token: number
    readonly introspection: number
    readonly registration: number
  }
  /** RFC 7591/7592 dynamic registration, `{origin}/oauth2/register` (in discovery as `registration_endpoint`). */
  readonly registrationEndpoint: string
  /** The base of Hydra's admin API (`{adminUrl}/admin/clients`), which is this issuer's origin. */
  readonly adminUrl: string
  /** Requires `Authorization: Bearer <token>` on RFC 7591 registrations (undefined: open registration). */
  setRegistrationInitialToken(token: string | undefined): void
  /** Offers Hydra's `POST /admin/clients/{id}/secrets/rotate` (true), or answers it 404 as released Hydra v2 does. */
  setSecretRotation(enabled: boolean): void
  /** `POST /admin/oauth2/introspect`, shaped like Hydra's admin endpoint (not in discovery, as in Hydra). */
  readonly introspectionEndpoint: string
  /** Every request the introspection endpoint received. */
  readonly introspectionRequests: readonly IntrospectionRequest[]
  /** A Hydra opaque token (`ory_at_…`) known to the introspection endpoint. */
  mintOpaqueToken(opts: OpaqueTokenOptions): string
  /** Revokes an opaque token: introspection answers `{"active":false}` from now on. */
  revokeToken(token: string): void
  /** How the introspection endpoint answers: 'ok', 'down', 'hang', '5xx', 'garbage' or a custom answer. */
  setIntrospectionMode(mode: IntrospectionMode): void
  /** Require client credentials (basic or post) at the introspection endpoint; undefined: none (Hydra). */
  requireIntrospectionAuth(auth: { clientId: string; secret: string } | undefined): void
  /** Switches what the token endpoint issues. */
  setAccessTokenFormat(format: 'jwt' | 'opaque'): void
  /** Every request the token endpoint received: headers and form fields. */
  readonly tokenRequests: readonly TokenRequest[]
  /** Registers a client with the token endpoint. */
  addClient(client: TestClient): void
  /** Replaces a client's secret at once, as Hydra v2 does (the old one stops working). */
  rotateClientSecret(clientId: string, secret: string): void
  /** How the token endpoint answers: 'ok', 'down' (connection reset), 'hang', '5xx', '429' (Retry-After: 1), 'garbage', 'redirect', or a custom answer. */
  setTokenMode(mode: TokenMode): void
  /** Delays successful token responses, ms. */
  setTokenDelay(ms: number): void
  readonly jwksRequests: readonly { headers: Record<string, string | string[] | undefined> }[]
  readonly kids: readonly string[]
  readonly signingKid: string
  /** A Hydra client-credentials token: `typ: JWT`, `sub === client_id`, `aud: []` unless given, `scp`, `ext: {}`, `nbf = iat`. */
  mintClientToken(opts: MintOptions & { clientId: string }): Promise<string>
  /** A Hydra authorization-code token: the same shape with `sub` = the user. */
  mintUserToken(opts: MintOptions & { sub: string; clientId: string }): Promise<string>
  /**
   * A forgery: a Hydra client-credentials token claiming this issuer and its current signing kid,
   * signed with a fresh key that is not in the JWKS. Any verifier must refuse it.
   */
  forgeClientToken(opts: MintOptions & { clientId: string }): Promise<string>
  /** An RFC 9068 token: `typ: at+jwt`, `scope` as a space-delimited string. */
  mintAccessToken(opts?: Omit<MintOptions, 'scope' | 'audience'>): Promise<string>
  /** Signs arbitrary header and payload text with a key of this issuer. */
  signRaw(
    header: Record<string, unknown> | string,
    payload: Record<string, unknown> | string,
    opts?: { kid?: string },
  ): Promise<string>
  /** Adds a new key, publishes it and signs with it from now on; returns its kid. */
  rotateKey(): Promise<string>
  /** Stops publishing a key (it can still sign, to present tokens for removed keys). */
  removeKey(kid: string): void
  /** Publishes an extra JWK verbatim. */
  publishJwk(jwk: Record<string, unknown>): void
  setJwksMode(mode: JwksMode): void
  setDiscoveryMode(mode: DiscoveryMode): void
  setDiscoveryOverrides(fields: Record<string, unknown>): void
  close(): Promise<void>
}

/**
 * Starts a test issuer on loopback.
 *
 * @example
 * ```ts
 * const issuer = await createTestIssuer()
 * const token = await issuer.mintClientToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'] })
 * // authenticate({ issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri })
 * await issuer.close()
 * ```
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const host = options.host ?? '127.0.0.1'
  const modulusLength = options.modulusLength ?? 2048
  const tokenTtl = options.tokenTtl ?? 3600
  const keys = new Map<string, SigningKey>()
  const published: string[] = []
  const extraJwks: Record<string, unknown>[] = []
  for (let i = 0; i < (options.keyCount ?? 2); i++) {
    const key = await createSigningKey(modulusLength)
    keys.set(key.kid, key)
    published.push(key.kid)
  }
  let signingKid = published[published.length - 1] ?? (await addKey())
  let jwksMode: JwksMode = 'ok'
  let discoveryMode: DiscoveryMode = 'ok'
  let overrides: Record<string, unknown> = {}
  const counts = { jwks: 0, discovery: 0, evil: 0 }
  const jwksRequests: { headers: Record<string, string | string[] | undefined> }[] = []
  const sockets = new Set<Socket>()

  async function addKey(): Promise<string> {
    const key = await createSigningKey(modulusLength)
    keys.set(key.kid, key)
    published.push(key.kid)
    return key.kid
  }

  const jwksBody = (): string =>
    JSON.stringify({
      keys: [...published.map((kid) => keys.get(kid)?.publicJwk), ...extraJwks],
    })

  const server = createServer((req, res) => {
    handle(req, res)
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve))
  const { port } = server.address() as AddressInfo
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  const issuer = options.trailingSlash === true ? `${origin}/` : origin
  const jwksUri = `${origin}/.well-known/jwks.json`
  const tokenEndpointUrl = `${origin}/oauth2/token`
  const introspectionEndpoint = `${origin}/admin/oauth2/introspect`
  const opaque = new OpaqueTokens(issuer, () => tokenTtl)
  const registrationEndpoint = `${origin}/oauth2/register`
  let accessTokenFormat = options.accessTokenFormat ?? 'jwt'
  const tokens = new TokenEndpoint({
    issuer,
    tokenEndpoint: tokenEndpointUrl,
    ttl: () => tokenTtl,
    keys: (header, token) =>
      createLocalJWKSet(JSON.parse(jwksBody()) as JSONWebKeySet)(header, token),
    mint: (o) =>
      accessTokenFormat === 'opaque'
        ? Promise.resolve(
            opaque.mint({
              clientId: o.clientId,
              sub: o.sub,
              scope: o.scope,
              audience: o.audience,
              ttl: o.ttl,
              ...(o.claims === undefined ? {} : { claims: o.claims }),
            }),
          )
        : sign(hydraClaims(o.sub, o.clientId, o), { typ: 'JWT' }, undefined),
  })
  const registration = new RegistrationEndpoint(() => origin, tokens.clients)
  const hits = {
    get jwks() {
      return counts.jwks
    },
    get discovery() {
      return counts.discovery
    },
    get evil() {
      return counts.evil
    },
    get token() {
      return tokens.hits
    },
    get introspection() {
      return opaque.hits
    },
    get registration() {
      return registration.hits
    },
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/.well-known/jwks.json') {
      counts.jwks++
      jwksRequests.push({ headers: { ...req.headers } })
      serveJwks(res)
      return
    }
    if (path === '/oauth2/token') {
      tokens.handle(req, res)
      return
    }
    if (path === '/admin/oauth2/introspect') {
      opaque.handle(req, res)
      return
    }
    if (registration.handles(path ?? '/')) {
      registration.handle(req, res)
      return
    }
    if (path === '/evil') {
      counts.evil++
      send(res, 200, jwksBody(), 'application/json')
      return
    }
    if (
      options.discovery !== false &&
      (path === '/.well-known/openid-configuration' ||
        path === '/.well-known/oauth-authorization-server')
    ) {
      counts.discovery++
      serveDiscovery(res)
      return
    }
    send(res, 404, JSON.stringify({ error: 'not_found' }), 'application/json')
  }

  function serveJwks(res: ServerResponse): void {
    const mode = jwksMode
    if (mode === 'hang') return
    if (mode === 'ok') {
      send(res, 200, jwksBody(), 'application/jwk-set+json')
      return
    }
    if (mode === 'fail') {
      send(res, 500, 'internal error', 'text/plain')
      return
    }
    if (mode === 'garbage') {
      send(res, 200, '{', 'application/json')
      return
    }
    if (mode === 'redirect') {
      res.writeHead(302, { location: '/evil' }).end()
      return
    }
    if (mode === 'stall-body') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"keys":[')
      return
    }
    res.writeHead(mode.status, { 'content-type': 'application/json', ...mode.headers })
    res.end(mode.body)
  }

  function serveDiscovery(res: ServerResponse): void {
    const mode = discoveryMode
    if (mode === 'hang') return
    if (mode === 'fail') {
      send(res, 500, 'internal error', 'text/plain')
      return
    }
    if (mode !== 'ok') {
      send(res, mode.status, mode.body, 'application/json')
      return
    }
    const doc = {
      issuer,
      jwks_uri: jwksUri,
      token_endpoint: tokenEndpointUrl,
      registration_endpoint: registrationEndpoint,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: [
        'client_secret_post',
        'client_secret_basic',
        'private_key_jwt',
        'none',
      ],
      id_token_signing_alg_values_supported: ['RS256'],
      ...overrides,
    }
    send(res, 200, JSON.stringify(doc), 'application/json')
  }

  function keyFor(kid: string | undefined): SigningKey {
    const key = keys.get(kid ?? signingKid)
    if (key === undefined) throw new Error(`test issuer: no key ${String(kid)}`)
    return key
  }

  async function sign(
    claims: Record<string, unknown>,
    header: Record<string, unknown>,
    kid: string | undefined,
  ): Promise<string> {
    const key = keyFor(kid)
    const payload: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(claims))
      if (value !== undefined) payload[name] = value
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, ...header })
      .sign(key.privateKey)
  }

  function hydraClaims(sub: string, clientId: string, opts: MintOptions): Record<string, unknown> {
    const iat = Math.floor(Date.now() / 1000)
    const ttl = opts.ttl ?? tokenTtl
    return {
      aud: [...(opts.audience ?? [])],
      client_id: clientId,
      exp: iat + ttl,
      ext: {},
      iat: ttl < 0 ? iat + ttl - 60 : iat,
      iss: issuer,
      jti: randomUUID(),
      nbf: ttl < 0 ? iat + ttl - 60 : iat,
      scp: [...(opts.scope ?? [])],
      sub,
      ...opts.claims,
    }
  }

  return {
    issuer,
    origin,
    jwksUri,
    tokenEndpoint: tokenEndpointUrl,
    hits,
    jwksRequests,
    tokenRequests: tokens.requests,
    introspectionEndpoint,
    registrationEndpoint,
    adminUrl: origin,
    setRegistrationInitialToken(token) {
      registration.initialAccessToken = token
    },
    setSecretRotation(enabled) {
      registration.rotation = enabled
    },
    introspectionRequests: opaque.requests,
    mintOpaqueToken(opts) {
      return opaque.mint(opts)
    },
    revokeToken(token) {
      opaque.revoke(token)
    },
    setIntrospectionMode(mode) {
      opaque.mode = mode
    },
    requireIntrospectionAuth(auth) {
      opaque.auth = auth
    },
    setAccessTokenFormat(format) {
      accessTokenFormat = format
    },
    addClient(client) {
      tokens.clients.set(client.clientId, { ...client })
    },
    rotateClientSecret(clientId, secret) {
      const client = tokens.clients.get(clientId)
      if (client === undefined) throw new Error(`test issuer: no client ${clientId}`)
      client.secrets = [secret]
    },
    setTokenMode(mode) {
      tokens.mode = mode
    },
    setTokenDelay(ms) {
      tokens.delay = ms
    },
    get kids() {
      return [...published]
    },
    get signingKid() {
      return signingKid
    },
    mintClientToken(opts) {
      return sign(
        hydraClaims(opts.clientId, opts.clientId, opts),
        { typ: 'JWT', ...opts.header },
        opts.kid,
      )
    },
    mintUserToken(opts) {
      return sign(
        hydraClaims(opts.sub, opts.clientId, opts),
        { typ: 'JWT', ...opts.header },
        opts.kid,
      )
    },
    async forgeClientToken(opts) {
      const attacker = await generateKeyPair('RS256', { modulusLength })
      const claims = hydraClaims(opts.clientId, opts.clientId, opts)
      return new SignJWT(claims)
        .setProtectedHeader({
          alg: 'RS256',
          kid: opts.kid ?? signingKid,
          typ: 'JWT',
          ...opts.header,
        })
        .sign(attacker.privateKey)
    },
    mintAccessToken(opts = {}) {
      const iat = Math.floor(Date.now() / 1000)
      const claims = {
        iss: issuer,
        sub: 'user-1',
        client_id: 'cli-1',
        aud: 'https://api.test',
        iat,
        exp: iat + tokenTtl,
        jti: randomUUID(),
        scope: 'read write',
        ...opts.claims,
      }
      return sign(claims, { typ: 'at+jwt', ...opts.header }, opts.kid)
    },
    signRaw(header, payload, opts = {}) {
      const key = keyFor(opts.kid)
      const h = typeof header === 'string' ? header : { alg: 'RS256', kid: key.kid, ...header }
      return Promise.resolve(signRawWith(key, h, payload))
    },
    async rotateKey() {
      signingKid = await addKey()
      return signingKid
    },
    removeKey(kid) {
      const i = published.indexOf(kid)
      if (i !== -1) published.splice(i, 1)
    },
    publishJwk(jwk) {
      extraJwks.push(jwk)
    },
    setJwksMode(mode) {
      jwksMode = mode
    },
    setDiscoveryMode(mode) {
      discoveryMode = mode
    },
    setDiscoveryOverrides(fields) {
      overrides = { ...fields }
    },
    close() {
      for (const socket of sockets) socket.destroy()
      return new Promise<void>((resolve) => {
        server.close(() => {
          resolve()
        })
      })
    },
  }
}

function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}
