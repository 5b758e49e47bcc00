/**
 * A real, certified authorization server for the demo and the interop tests: oidc-provider (npm),
 * on 127.0.0.1. Configured for the client-credentials grant with RFC 8707
 * resource indicators: each resource server says whether its access tokens are RFC 9068 JWTs
 * (`typ: at+jwt`, `aud` = its audience, signed RS256 by the first key) or opaque tokens that
 * only introspection (which requires client authentication) can read; revocation is on. Key
 * rotation restarts the provider on the same port with a new key list (storage is an in-memory
 * Map shared by the instances of this process, so opaque tokens survive the restart).
 * A token request without `resource` gets an opaque token with no audience (`defaultResource`
 * names none), which a service with an audience refuses.
 *
 * Users log in through the authorization-code flow with PKCE. There is no browser and no login
 * page: `POST /interaction/:uid/login` with `username` and `password` (form-encoded) completes the
 * login prompt, and consent is implied for the requested resource (see `login.ts` for the client
 * side). Demo only: a real deployment has a login UI and real consent.
 */
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { TLSSocket } from 'node:tls'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import Provider, {
  errors,
  type Adapter,
  type AdapterPayload,
  type ClientMetadata,
  type ResourceServer,
} from 'oidc-provider'

export interface ProviderClient {
  readonly clientId: string
  readonly clientSecret?: string
  /** `none`: a public client (authorization code with PKCE, loopback redirect). */
  readonly authMethod:
    | 'client_secret_basic'
    | 'client_secret_post'
    | 'private_key_jwt'
    | 'tls_client_auth'
    | 'self_signed_tls_client_auth'
    | 'none'
  /** Public keys, for private_key_jwt; for self_signed_tls_client_auth, keys with `x5c`. */
  readonly jwks?: { keys: JWK[] }
  /** For tls_client_auth: the certificate subject DN it must present, e.g. `CN=bss`. */
  readonly tlsClientAuthSubjectDn?: string
  /** Bind its tokens to the client certificate it presents (RFC 8705 §3). @default false */
  readonly certificateBound?: boolean
  /** Scopes the client may request. @default 'smd.read smd.write' */
  readonly scope?: string
}

export interface ResourceConfig {
  readonly audience: string
  readonly scope: string
  readonly format: 'jwt' | 'opaque'
  /** Access token lifetime, seconds. @default 600 */
  readonly ttl?: number
}

export interface StartOptions {
  readonly clients: readonly ProviderClient[]
  /** Resource servers by resource indicator, e.g. `'urn:smd'`. */
  readonly resources: Readonly<Record<string, ResourceConfig>>
  /** Private signing JWKs (the first one signs). @default one generated RSA-2048 key */
  readonly keys?: readonly JWK[]
  /** @default 0 (a free port); restartProvider reuses the old one */
  readonly port?: number
  /** Users who may log in (username → password and subject). */
  readonly users?: Readonly<Record<string, { readonly password: string; readonly sub: string }>>
  /** RFC 7591/7592 dynamic registration at `/reg`, optionally behind an initial access token. */
  readonly registration?: { readonly initialAccessToken?: string }
  /**
   * DPoP (RFC 9449) is always on (oidc-provider's default); `requireNonce` makes the token endpoint
   * demand a server nonce in every proof (`use_dpop_nonce`, §8).
   */
  readonly dpop?: { readonly requireNonce?: boolean }
  /**
   * Serve over HTTPS with this server certificate, asking clients for a certificate (trusted when
   * issued by `ca`; self-signed ones reach self_signed_tls_client_auth), with oidc-provider's mTLS
   * features on: certificate-bound tokens, tls_client_auth, self_signed_tls_client_auth (RFC 8705).
   */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string }
}

/** Where public clients are sent back to; never served: the code is read from the redirect. */
export const LOOPBACK_REDIRECT = 'http://127.0.0.1/callback'

export interface RunningProvider {
  readonly issuer: string
  readonly tokenEndpoint: string
  readonly introspectionEndpoint: string
  readonly revocationEndpoint: string
  /** `/reg` (only answers when started with `registration`). */
  readonly registrationEndpoint: string
  readonly jwksUri: string
  readonly port: number
  readonly keys: readonly JWK[]
  close(): Promise<void>
}

/** An RS256 private JWK with a UUID kid. */
export async function generateSigningKey(kid: string = randomUUID()): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' }
}

export async function startProvider(options: StartOptions): Promise<RunningProvider> {
  const keys = options.keys ?? [await generateSigningKey()]
  const tls = options.tls
  const server: Server =
    tls === undefined
      ? createServer()
      : createHttpsServer({ ...tls, requestCert: true, rejectUnauthorized: false })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const issuer = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`
  const users = options.users ?? {}
  const provider = new Provider(issuer, {
    clients: options.clients.map(clientMetadata),
    ...(tls === undefined
      ? {}
      : {
          clientAuthMethods: [
            'client_secret_basic',
            'client_secret_post',
            'private_key_jwt',
            'none',
            'tls_client_auth',
            'self_signed_tls_client_auth',
          ],
        }),
    jwks: { keys: keys.map((k) => ({ ...k })) },
    scopes: ['smd.read', 'smd.write', 'bss.read', 'bss.write'],
    cookies: { keys: ['svcauth-interop-cookie-key'] },
    adapter: MemoryAdapter,
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      // A resource server's own lifetime wins (oidc-provider's fixed ttl would override it).
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
      Interaction: 600,
      Grant: 3600,
      Session: 3600,
      IdToken: 600,
      AuthorizationCode: 60,
    },
    features: {
      devInteractions: { enabled: false },
      registration: {
        enabled: options.registration !== undefined,
        ...(options.registration?.initialAccessToken === undefined
          ? {}
          : { initialAccessToken: options.registration.initialAccessToken }),
      },
      registrationManagement: {
        enabled: options.registration !== undefined,
        rotateRegistrationAccessToken: false,
      },
      clientCredentials: { enabled: true },
      ...(tls === undefined ? {} : { mTLS: mtlsFeature() }),
      dPoP: {
        enabled: true,
        ...(options.dpop?.requireNonce === true
          ? { nonceSecret: randomBytes(32), requireNonce: () => true }
          : {}),
      },
      // Any authenticated client (a resource server) may introspect; only the owner may revoke.
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx, client) => client.clientAuthMethod !== 'none',
      },
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator): ResourceServer => {
          const resource = options.resources[indicator]
          if (resource === undefined) throw new errors.InvalidTarget()
          return {
            scope: resource.scope,
            audience: resource.audience,
            accessTokenTTL: resource.ttl ?? 600,
            accessTokenFormat: resource.format,
            ...(resource.format === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
          }
        },
      },
    },
  })
  provider.use(async (ctx, next) => {
    const match = /^\/interaction\/([\w-]+)\/login$/.exec(ctx.path)
    if (match === null || ctx.method !== 'POST') {
      await next()
      return
    }
    const form = new URLSearchParams(await readBody(ctx.req))
    const user = users[form.get('username') ?? '']
    if (user === undefined || user.password !== form.get('password')) {
      ctx.status = 401
      ctx.body = { error: 'access_denied', error_description: 'wrong username or password' }
      return
    }
    const details = await provider.interactionDetails(ctx.req, ctx.res)
    if (details.uid !== match[1] || details.prompt.name !== 'login') {
      ctx.status = 400
      ctx.body = { error: 'invalid_request', error_description: 'no login pending' }
      return
    }
    // Consent is implied for what the signed-in user asked for (demo only).
    const grant = new provider.Grant({
      accountId: user.sub,
      clientId: String(details.params.client_id),
    })
    const scope = (typeof details.params.scope === 'string' ? details.params.scope : '').split(' ')
    // Scopes named in `scopes` below count as the provider's own (op_scopes_missing otherwise).
    grant.addOIDCScope(scope.join(' '))
    const requested = details.params.resource
    for (const indicator of Array.isArray(requested) ? requested : [requested]) {
      const resource = typeof indicator === 'string' ? options.resources[indicator] : undefined
      if (resource !== undefined && typeof indicator === 'string') {
        const allowed = resource.scope.split(' ')
        grant.addResourceScope(indicator, scope.filter((s) => allowed.includes(s)).join(' '))
      }
    }
    const grantId = await grant.save()
    const to = await provider.interactionResult(
      ctx.req,
      ctx.res,
      { login: { accountId: user.sub }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    )
    ctx.status = 303
    ctx.redirect(to)
  })
  const callback = provider.callback()
  server.on('request', (req, res) => {
    void callback(req, res)
  })
  return {
    issuer,
    tokenEndpoint: `${issuer}/token`,
    introspectionEndpoint: `${issuer}/token/introspection`,
    revocationEndpoint: `${issuer}/token/revocation`,
    registrationEndpoint: `${issuer}/reg`,
    jwksUri: `${issuer}/jwks`,
    port,
    keys,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  }
}

/** Key rotation: the same port, a new key list (the first key signs). */
export async function restartProvider(
  running: RunningProvider,
  options: StartOptions,
): Promise<RunningProvider> {
  await running.close()
  return startProvider({ ...options, port: running.port })
}

/** oidc-provider's mTLS feature, reading the certificate from the TLS socket. */
function mtlsFeature() {
  const peer = (ctx: { req: { socket: unknown } }): X509Certificate | undefined => {
    const socket = ctx.req.socket
    const raw = socket instanceof TLSSocket ? socket.getPeerCertificate().raw : undefined
    return raw === undefined ? undefined : new X509Certificate(raw)
  }
  return {
    enabled: true,
    certificateBoundAccessTokens: true,
    selfSignedTlsClientAuth: true,
    tlsClientAuth: true,
    getCertificate: (ctx: { req: { socket: unknown } }) => peer(ctx)?.toString(),
    certificateAuthorized: (ctx: { req: { socket: unknown } }) =>
      ctx.req.socket instanceof TLSSocket && ctx.req.socket.authorized,
    certificateSubjectMatches: (
      ctx: { req: { socket: unknown } },
      property: string,
      expected: string,
    ) =>
      property === 'tls_client_auth_subject_dn' &&
      peer(ctx)?.subject === expected.replace(/,\s*/g, '\n'),
  }
}

function clientMetadata(c: ProviderClient): ClientMetadata {
  if (c.authMethod === 'none') {
    return {
      client_id: c.clientId,
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [LOOPBACK_REDIRECT],
      scope: c.scope ?? 'openid smd.read smd.write',
    }
  }
  return {
    client_id: c.clientId,
    ...(c.clientSecret === undefined ? {} : { client_secret: c.clientSecret }),
    token_endpoint_auth_method: c.authMethod,
    ...(c.jwks === undefined ? {} : { jwks: c.jwks }),
    ...(c.tlsClientAuthSubjectDn === undefined
      ? {}
      : { tls_client_auth_subject_dn: c.tlsClientAuthSubjectDn }),
    ...(c.certificateBound === true ? { tls_client_certificate_bound_access_tokens: true } : {}),
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: c.scope ?? 'smd.read smd.write',
  }
}

/** oidc-provider's storage, in a Map per model (its own dev adapter prints a warning). */
class MemoryAdapter implements Adapter {
  static readonly stores = new Map<string, Map<string, AdapterPayload>>()
  readonly #store: Map<string, AdapterPayload>

  constructor(name: string) {
    let store = MemoryAdapter.stores.get(name)
    if (store === undefined) {
      store = new Map()
      MemoryAdapter.stores.set(name, store)
    }
    this.#store = store
  }

  upsert(id: string, payload: AdapterPayload): Promise<void> {
    this.#store.set(id, payload)
    return Promise.resolve()
  }

  find(id: string): Promise<AdapterPayload | undefined> {
    return Promise.resolve(this.#store.get(id))
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return Promise.resolve([...this.#store.values()].find((p) => p.userCode === userCode))
  }

  /** Sessions are found by uid (authorization codes are bound to the session that made them). */
  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return Promise.resolve([...this.#store.values()].find((p) => p.uid === uid))
  }

  consume(id: string): Promise<void> {
    const payload = this.#store.get(id)
    if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000)
    return Promise.resolve()
  }

  destroy(id: string): Promise<void> {
    this.#store.delete(id)
    return Promise.resolve()
  }

  revokeByGrantId(grantId: string): Promise<void> {
    for (const [id, payload] of this.#store) if (payload.grantId === grantId) this.#store.delete(id)
    return Promise.resolve()
  }
}

async function readBody(req: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += chunk.length
    if (size > 8192) break
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}
