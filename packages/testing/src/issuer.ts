/**
 * An in-process OAuth 2.0 / OIDC issuer for tests, on loopback, shaped like Ory Hydra: discovery
 * metadata (discovery.ts), a JWKS with key rotation that can be made to misbehave, and its keys
 * handed out for verifiers configured without a network (jwks.ts: `publicKeys()`, PEM), JWT
 * access tokens minted like Hydra's or RFC 9068 `at+jwt` (minting.ts), Hydra's opaque `ory_at_…`
 * tokens with its introspection endpoint (introspection.ts), its token endpoint
 * (token-endpoint.ts) and client registration (registration.ts). This file starts the server,
 * routes each path to its endpoint and assembles the public `TestIssuer`.
 *
 * With `tls`, the same endpoints are served over HTTPS with a server certificate from the given
 * test CA, asking every client for a certificate without requiring one (RFC 8705: mutual TLS for
 * client authentication and certificate-bound tokens). Discovery then names an mTLS alias of the
 * token endpoint (§5), on the same server, and says tokens are certificate-bound (§3.3).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { jwtVerify } from 'jose'
import { DiscoveryEndpoint, type DiscoveryMode } from './discovery.js'
import { sendJson } from './http.js'
import {
  OpaqueTokens,
  type IntrospectionMode,
  type IntrospectionRequest,
  type OpaqueTokenOptions,
} from './introspection.js'
import { KeySet, type JwksMode, type JwksRequest } from './jwks.js'
import { Minter, type MintOptions } from './minting.js'
import { RegistrationEndpoint } from './registration.js'
import { certificateForKey, type TestCa, type TestCertificate } from './tls.js'
import {
  TokenEndpoint,
  type TestClient,
  type TokenMode,
  type TokenRequest,
} from './token-endpoint.js'

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
  /**
   * Serve everything over HTTPS (RFC 8705): a server certificate from `ca` (or `server`, one you
   * issued), a client certificate asked for, not required. The token endpoint then accepts the
   * `tls_client_auth` and `self_signed_tls_client_auth` clients and binds every token whose request
   * presented a certificate to it; discovery adds `mtls_endpoint_aliases.token_endpoint` and
   * `tls_client_certificate_bound_access_tokens: true`. Clients trust `ca.cert`.
   * @default plain HTTP
   */
  tls?: TestIssuerTlsOptions
}

/** The test issuer's TLS: the CA that issues its server certificate and that it trusts for clients. */
export interface TestIssuerTlsOptions {
  /** Issues the server certificate (unless `server` is given) and verifies `tls_client_auth` certificates. */
  readonly ca: TestCa
  /** A server certificate to use instead of a new one from `ca`. */
  readonly server?: TestCertificate
}

export interface TestIssuer {
  readonly issuer: string
  readonly origin: string
  readonly jwksUri: string
  /** `POST /oauth2/token`, shaped like Hydra's. */
  readonly tokenEndpoint: string
  /**
   * With `tls`: the token endpoint's mTLS alias (RFC 8705 §5), `{origin}/oauth2/mtls/token`, which
   * discovery names in `mtls_endpoint_aliases`; it answers exactly as `tokenEndpoint` does, and
   * `tokenRequests[i].path` tells which one a client used. Undefined on plain HTTP.
   */
  readonly mtlsTokenEndpoint: string | undefined
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
  /**
   * `POST /admin/oauth2/introspect`, shaped like Hydra's admin endpoint (not in discovery, as in
   * Hydra). It answers for opaque tokens from `mintOpaqueToken` and, as Hydra does, for this
   * issuer's own JWTs (signed with a published key, unexpired, not revoked).
   */
  readonly introspectionEndpoint: string
  /** Every request the introspection endpoint received. */
  readonly introspectionRequests: readonly IntrospectionRequest[]
  /** A Hydra opaque token (`ory_at_…`) known to the introspection endpoint. */
  mintOpaqueToken(opts: OpaqueTokenOptions): string
  /**
   * Revokes a token, opaque or JWT: introspection answers `{"active":false}` for it from now on. A
   * revoked JWT still verifies locally: only a service that introspects JWTs
   * (`introspection.jwt`) sees the revocation.
   */
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
  /** Require this nonce in DPoP proofs at the token endpoint (`400 use_dpop_nonce` until sent); undefined: none. */
  setDpopNonce(nonce: string | undefined): void
  /** Delays successful token responses, ms. */
  setTokenDelay(ms: number): void
  /** Every request the JWKS endpoint received. */
  readonly jwksRequests: readonly JwksRequest[]
  /**
   * The key set the JWKS endpoint publishes now, as a JWKS object (a copy): for a verifier given
   * its keys without a network (`keys`, or written to a `keysFile`).
   */
  publicKeys(): { keys: Record<string, unknown>[] }
  /** One published key (by default the signing key) as SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  publicKeyPem(kid?: string): string
  /** Every published key as SPKI PEM, oldest first: a rotation pair given together. */
  publicKeyPems(): string[]
  /**
   * A self-signed X.509 certificate (PEM, valid one day) holding one key (by default the signing
   * key), made with the system `openssl`: keys distributed as certificates.
   */
  publicKeyCertificate(kid?: string): Promise<string>
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
  const keys = await KeySet.create(options.keyCount ?? 2, modulusLength)
  const sockets = new Set<Socket>()
  const server = await startServer(options.tls, (req, res) => {
    route(req, res)
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve))
  const { port } = server.address() as AddressInfo
  const scheme = options.tls === undefined ? 'http' : 'https'
  const origin = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`
  const issuer = options.trailingSlash === true ? `${origin}/` : origin
  const jwksUri = `${origin}/.well-known/jwks.json`
  const tokenEndpoint = `${origin}/oauth2/token`
  const mtlsTokenEndpoint = options.tls === undefined ? undefined : `${origin}/oauth2/mtls/token`
  const introspectionEndpoint = `${origin}/admin/oauth2/introspect`
  const registrationEndpoint = `${origin}/oauth2/register`
  const minter = new Minter(issuer, keys, tokenTtl, modulusLength)
  const opaque = new OpaqueTokens(
    issuer,
    () => tokenTtl,
    (token) =>
      jwtVerify(token, keys.verifier, { issuer }).then(
        (verified) => verified.payload as Record<string, unknown>,
        () => undefined,
      ),
  )
  let accessTokenFormat = options.accessTokenFormat ?? 'jwt'
  const tokens = new TokenEndpoint({
    issuer,
    tokenEndpoint,
    mtlsTokenEndpoint,
    ttl: () => tokenTtl,
    keys: keys.verifier,
    mint: (o) =>
      accessTokenFormat === 'opaque'
        ? Promise.resolve(opaque.mint(o))
        : minter.hydra(o.sub, o.clientId, o),
  })
  const registration = new RegistrationEndpoint(() => origin, tokens.clients)
  const discovery = new DiscoveryEndpoint({
    issuer,
    jwksUri,
    tokenEndpoint,
    registrationEndpoint,
    mtlsTokenEndpoint,
  })
  const hits = {
    get jwks() {
      return keys.hits
    },
    get discovery() {
      return discovery.hits
    },
    get evil() {
      return keys.evilHits
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

  function route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    if (keys.handles(path)) keys.handle(req, res, path)
    else if (path === '/oauth2/token') tokens.handle(req, res, tokenEndpoint)
    else if (mtlsTokenEndpoint !== undefined && path === '/oauth2/mtls/token')
      tokens.handle(req, res, mtlsTokenEndpoint)
    else if (path === '/admin/oauth2/introspect') opaque.handle(req, res)
    else if (registration.handles(path)) registration.handle(req, res)
    else if (options.discovery !== false && discovery.handles(path)) discovery.handle(req, res)
    else sendJson(res, 404, { error: 'not_found' })
  }

  return {
    issuer,
    origin,
    jwksUri,
    tokenEndpoint,
    mtlsTokenEndpoint,
    hits,
    jwksRequests: keys.requests,
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
    setDpopNonce(nonce) {
      tokens.dpopNonce = nonce
    },
    setTokenDelay(ms) {
      tokens.delay = ms
    },
    get kids() {
      return keys.kids
    },
    get signingKid() {
      return keys.signingKid
    },
    publicKeys() {
      return keys.publicKeys()
    },
    publicKeyPem(kid) {
      return keys.key(kid).spki
    },
    publicKeyPems() {
      return keys.publicKeyPems()
    },
    publicKeyCertificate(kid) {
      const key = keys.key(kid)
      return certificateForKey(key.pkcs8, key.kid)
    },
    mintClientToken(opts) {
      return minter.hydra(opts.clientId, opts.clientId, opts)
    },
    mintUserToken(opts) {
      return minter.hydra(opts.sub, opts.clientId, opts)
    },
    forgeClientToken(opts) {
      return minter.forge(opts.clientId, opts)
    },
    mintAccessToken(opts = {}) {
      return minter.accessToken(opts)
    },
    signRaw(header, payload, opts = {}) {
      return Promise.resolve(minter.raw(header, payload, opts.kid))
    },
    async rotateKey() {
      keys.signingKid = await keys.add()
      return keys.signingKid
    },
    removeKey(kid) {
      keys.remove(kid)
    },
    publishJwk(jwk) {
      keys.publish(jwk)
    },
    setJwksMode(mode) {
      keys.mode = mode
    },
    setDiscoveryMode(mode) {
      discovery.mode = mode
    },
    setDiscoveryOverrides(fields) {
      discovery.overrides = { ...fields }
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

/**
 * A plain HTTP server, or with `tls` an HTTPS one that asks for a client certificate and lets a
 * connection without one (or with one it cannot verify) through, so that the token endpoint can
 * answer `invalid_client` and self-signed certificates can be registered (RFC 8705 §2.2).
 */
async function startServer(
  tls: TestIssuerTlsOptions | undefined,
  listener: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Server | HttpsServer> {
  if (tls === undefined) return createServer(listener)
  const server = tls.server ?? (await tls.ca.issueServer())
  return createHttpsServer(
    {
      cert: server.cert,
      key: server.key,
      ca: tls.ca.cert,
      requestCert: true,
      rejectUnauthorized: false,
    },
    listener,
  )
}
