/**
 * createServiceClient: the outbound side in one object. It holds the service's client-credentials
 * tokens (RFC 6749 §4.4) per target, exchanges user tokens (RFC 8693) where a target asks for it,
 * and exposes fetch/request bound to an undici Agent composed with the token interceptor.
 */
import { createHash } from 'node:crypto'
import { currentAuthContext, rawToken, runWithPrincipal, type Principal } from '@svcauth/core'
import { assertUrl, runWithRequest, type ResponseLike } from '@svcauth/core/internal'
import { Agent, fetch as undiciFetch, request as undiciRequest, type Dispatcher } from 'undici'
import { isTokenEndpointError, TokenEndpointError, UserTokenRefusedError } from './errors.js'
import { tokenInterceptor, type Planner, type TokenPlan } from './interceptor.js'
import {
  authenticateForm,
  clientAssertion,
  type AuthMethod,
  type ClientProof,
} from './lib/client-auth.js'
import { postToken, type IssuedToken, type TokenLimits } from './lib/token-request.js'
import {
  optionError,
  positive,
  resolveTargets,
  type ResolvedTarget,
  type SecretSource,
  type ServiceClientOptions,
} from './options.js'
import { loadOrRegister, type RegisteredClient } from './registration.js'
import { discoveredEndpoint, fixedEndpoint } from './token-endpoint.js'
import { SecretRing } from './secrets.js'
import { TokenSource, type Fetcher, type Lease } from './token-source.js'

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token'

/** The calls an adapter exposes as `req.outbound` / `ctx.outbound`. */
export type OutboundCalls = Pick<ServiceClient, 'fetch' | 'request'>

/** The outbound client. */
export interface ServiceClient {
  /** undici fetch through the token-attaching dispatcher. */
  fetch(
    input: string | URL,
    init?: Parameters<typeof undiciFetch>[1],
  ): ReturnType<typeof undiciFetch>
  /** undici request through the token-attaching dispatcher. */
  request(
    url: string | URL,
    options?: Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> &
      Partial<Pick<Dispatcher.RequestOptions, 'method'>>,
  ): Promise<Dispatcher.ResponseData>
  /** The Agent with the interceptor, for your own undici calls (never set it as the global dispatcher). */
  readonly dispatcher: Dispatcher
  /** The interceptor alone, to compose into a dispatcher of your own. */
  readonly interceptor: Dispatcher.DispatcherComposeInterceptor
  /**
   * `fetch` and `request` that act for `principal` (a user's token is forwarded or exchanged
   * where targets allow it; otherwise the service's own token is used), wherever they are called.
   * With `response` (the adapters pass the request's), only until that response has finished or
   * its connection closed: calls made later, by work that outlived the request, act as the
   * service itself.
   */
  forPrincipal(principal: Principal | undefined, response?: ResponseLike): OutboundCalls
  /** The service's own token for a configured target origin (cached). */
  getToken(origin: string): Promise<string>
  /** Closes the Agent it created and drops cached tokens. */
  close(): Promise<void>
}

/**
 * Creates the outbound client.
 *
 * @example
 * ```ts
 * const svc = createServiceClient({
 *   tokenEndpoint: 'http://hydra:4444/oauth2/token',
 *   clientId: 'bss',
 *   clientSecret: [process.env.BSS_SECRET!, process.env.BSS_OLD_SECRET!],
 *   targets: { 'http://smd:27779': { scope: ['smd.read'], audience: 'smd', userToken: 'forward' } },
 * })
 * const res = await svc.fetch('http://smd:27779/hsm/v2/State/Components?type=Node')
 * ```
 */
export function createServiceClient(options: ServiceClientOptions): ServiceClient {
  const registration = options.registration
  if (registration === undefined && (options.clientId === undefined || options.clientId === '')) {
    optionError('clientId is required (or registration, to register the client on first start)')
  }
  if (registration !== undefined && typeof registration.credentialsFile !== 'string') {
    optionError('registration.credentialsFile is required')
  }
  const allowHttp = options.allowInsecureHttp === true
  const authMethod: AuthMethod = options.authMethod ?? 'client_secret_basic'
  if (!['client_secret_basic', 'client_secret_post', 'private_key_jwt'].includes(authMethod)) {
    optionError(`unsupported authMethod ${authMethod as string}`)
  }
  if (authMethod === 'private_key_jwt' && options.privateKey === undefined) {
    optionError('private_key_jwt needs privateKey')
  }
  if (
    authMethod !== 'private_key_jwt' &&
    options.clientSecret === undefined &&
    registration === undefined
  ) {
    optionError(`${authMethod} needs clientSecret`)
  }
  if (options.tokenEndpoint === undefined && options.issuer === undefined) {
    optionError('give tokenEndpoint or issuer')
  }
  const configuredEndpoint =
    options.tokenEndpoint === undefined
      ? undefined
      : assertUrl('tokenEndpoint', options.tokenEndpoint, allowHttp, false)
  const issuer =
    options.issuer === undefined ? undefined : assertUrl('issuer', options.issuer, allowHttp, false)
  const targets = resolveTargets(options.targets)
  const limits: TokenLimits = {
    timeout: positive('timeout', options.timeout, 10_000, 120_000) || 1,
    maxBytes: positive('maxResponseBytes', options.maxResponseBytes, 65_536, 16 << 20),
    dispatcher: options.tokenDispatcher,
  }
  const source = new TokenSource({
    max: positive('maxCachedTokens', options.maxCachedTokens, 1000, 1_000_000) || 1,
    refreshSkew: positive('refreshSkew', options.refreshSkew, 30, 3600),
    defaultLifetime: positive('defaultLifetime', options.defaultLifetime, 60, 86_400),
    maxLifetime: positive('maxLifetime', options.maxLifetime, 86_400, 30 * 86_400),
    minDelay: positive('retry.minDelay', options.retry?.minDelay, 1000, 3_600_000),
    maxDelay: positive('retry.maxDelay', options.retry?.maxDelay, 60_000, 3_600_000),
  })
  const maxReplayBytes = positive('maxReplayBytes', options.maxReplayBytes, 1 << 20, 64 << 20)
  const { privateKey } = options
  const logger = options.logger
  let clientId = options.clientId ?? ''
  // With registration: the stored credentials, or a registration saved for later starts; made
  // once, before the first token request (a failure is retried with the next one).
  let registered: Promise<RegisteredClient> | undefined
  const bootstrap = (): Promise<RegisteredClient> | undefined => {
    if (registration === undefined) return undefined
    registered ??= loadOrRegister(registration.credentialsFile, {
      ...registration,
      metadata: {
        token_endpoint_auth_method: authMethod,
        ...registration.metadata,
      },
    }).then(
      (client) => {
        clientId = client.clientId
        logger?.info?.(
          { event: 'client_ready', client_id: client.clientId },
          'svcauth: client credentials ready',
        )
        return client
      },
      (err: unknown) => {
        registered = undefined
        throw new TokenEndpointError('invalid_client', {
          description: 'client registration failed',
          cause: err,
        })
      },
    )
    return registered
  }
  const clientSecret: SecretSource | undefined =
    options.clientSecret ??
    (registration === undefined
      ? undefined
      : async () => {
          const secret = (await bootstrap())?.clientSecret
          if (secret === undefined) {
            throw new TokenEndpointError('invalid_client', {
              description: 'the registration returned no client secret',
            })
          }
          return secret
        })
  const secrets =
    authMethod === 'private_key_jwt' || clientSecret === undefined
      ? undefined
      : new SecretRing(clientSecret)

  const endpoints =
    configuredEndpoint === undefined
      ? discoveredEndpoint(
          issuer ?? '',
          limits,
          allowHttp,
          {
            cooldown: positive('discovery.cooldown', options.discovery?.cooldown, 5000, 3_600_000),
            refreshInterval: positive(
              'discovery.refreshInterval',
              options.discovery?.refreshInterval,
              600_000,
              86_400_000,
            ),
          },
          logger,
        )
      : fixedEndpoint(configuredEndpoint)

  /** Sends one grant with client authentication, rotating secrets on invalid_client. */
  async function grant(
    form: URLSearchParams,
    target: ResolvedTarget,
    refresh: boolean,
  ): Promise<IssuedToken> {
    const url = await endpoints.current()
    try {
      await bootstrap()
      const issued = await authenticated(url, form).catch(async (err: unknown) => {
        // R11: an endpoint that stopped answering may have moved; if discovery names another, one
        // more try there (the failure stands when it names the same one, or fails).
        const moved = isTokenEndpointError(err) ? await endpoints.moved(url, err) : undefined
        if (moved === undefined) throw err
        return authenticated(moved, form)
      })
      logger?.info?.(
        {
          event: 'token_fetched',
          client_id: clientId,
          grant_type: form.get('grant_type'),
          target: target.origin,
          scope: target.scope.join(' '),
          audience: [...target.audience, ...target.resource].join(' '),
          expires_in: issued.expiresIn,
        },
        'svcauth: service token fetched',
      )
      return issued
    } catch (err) {
      const e =
        err instanceof TokenEndpointError
          ? err
          : new TokenEndpointError('network_error', { cause: err })
      const fields = {
        event: refresh ? 'token_refresh_failed' : 'token_fetch_failed',
        client_id: clientId,
        grant_type: form.get('grant_type'),
        target: target.origin,
        scope: target.scope.join(' '),
        audience: [...target.audience, ...target.resource].join(' '),
        error: e.error,
        status: e.status,
        error_description: e.description,
      }
      // A failed refresh ahead of expiry still has a valid token in use: a warning, not an outage.
      if (refresh)
        logger?.warn(fields, 'svcauth: token refresh failed; the current token stays in use')
      else logger?.error(fields, 'svcauth: token request failed')
      throw e
    }
  }

  async function authenticated(url: string, form: URLSearchParams): Promise<IssuedToken> {
    const send = async (proof: ClientProof): Promise<IssuedToken> => {
      const { body, headers } = authenticateForm(clientId, form, proof)
      return postToken(url, body, headers, limits)
    }
    if (secrets === undefined) {
      if (privateKey === undefined) throw new TokenEndpointError('invalid_client')
      const assertion = await clientAssertion(clientId, options.assertionAudience ?? url, {
        key: privateKey,
        alg: options.privateKeyAlg ?? (privateKey as { alg?: string }).alg ?? 'RS256',
        kid: options.privateKeyId ?? (privateKey as { kid?: string }).kid,
      })
      return send({ method: 'private_key_jwt', assertion })
    }
    const method = authMethod === 'client_secret_post' ? authMethod : 'client_secret_basic'
    return secrets.attempt((secret) => send({ method, secret }))
  }

  const targetForm = (target: ResolvedTarget, form: URLSearchParams): URLSearchParams => {
    if (target.scope.length > 0) form.set('scope', target.scope.join(' '))
    if (target.audience.length > 0) form.set('audience', target.audience.join(' '))
    for (const r of target.resource) form.append('resource', r)
    return form
  }

  interface Service {
    readonly key: string
    readonly fetcher: Fetcher
    readonly accept: (token: string) => void
  }
  /** Per target, computed once: the cache key of its service token, its fetcher and acceptor. */
  const services = new WeakMap<ResolvedTarget, Service>()
  const service = (t: ResolvedTarget): Service => {
    let entry = services.get(t)
    if (entry === undefined) {
      const key = JSON.stringify([
        'cc',
        configuredEndpoint ?? issuer,
        clientId,
        t.scope,
        t.audience,
        t.resource,
      ])
      entry = {
        key,
        fetcher: (refresh) =>
          grant(
            targetForm(t, new URLSearchParams({ grant_type: 'client_credentials' })),
            t,
            refresh,
          ),
        accept: (token) => {
          source.accepted(key, token)
        },
      }
      services.set(t, entry)
    }
    return entry
  }

  const serviceLease = (target: ResolvedTarget): Promise<Lease> => {
    const { key, fetcher } = service(target)
    return source.get(key, fetcher)
  }

  const exchangeLease = (
    subject: string,
    target: ResolvedTarget,
  ): { key: string; lease: Promise<Lease> } => {
    const hash = createHash('sha256').update(subject).digest('base64url')
    const key = JSON.stringify([
      'x',
      configuredEndpoint ?? issuer,
      clientId,
      hash,
      target.scope,
      target.audience,
      target.resource,
    ])
    const form = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE,
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN,
      requested_token_type: ACCESS_TOKEN,
    })
    return {
      key,
      lease: source.get(key, (refresh) => grant(targetForm(target, form), target, refresh)),
    }
  }

  const renewable = (
    key: string,
    target: ResolvedTarget,
    lease: Lease,
    again: () => Promise<Lease>,
    accepted: (token: string) => void,
  ): TokenPlan => ({
    token: lease.token,
    accepted,
    renew: lease.fresh
      ? undefined
      : async () => {
          if (source.invalidate(key, lease.token)) {
            logger?.warn(
              {
                event: 'token_rejected',
                client_id: clientId,
                target: target.origin,
                scope: target.scope.join(' '),
                audience: [...target.audience, ...target.resource].join(' '),
              },
              'svcauth: a target rejected the cached token; fetching a new one',
            )
          }
          const next = (await again()).token
          // Still the rejected token (a token no target accepted yet is renewed at most once per
          // retry.minDelay): do not replay in vain.
          if (next === lease.token) throw new TokenEndpointError('invalid_grant')
          return next
        },
  })

  /** One warning per refused call: who the user is and where the call was going, not the token. */
  const refuseUserToken = (
    target: ResolvedTarget,
    principal: Principal | undefined,
  ): UserTokenRefusedError => {
    logger?.warn(
      {
        event: 'user_token_refused',
        target: target.origin,
        audience: target.accepts.join(' '),
        sub: principal?.sub,
        client_id: principal?.clientId,
        token_audience: principal?.audience.join(' '),
      },
      "svcauth: a user's token was not forwarded to a target it is not issued for",
    )
    return new UserTokenRefusedError(target.origin)
  }

  const planner: Planner = (origin) => {
    const target = targets.get(origin)
    if (target === undefined) return undefined
    const principal: Principal | undefined = currentAuthContext()?.principal
    const userToken =
      principal?.actorType === 'user' && target.userToken !== 'never'
        ? rawToken(principal)
        : undefined
    if (userToken !== undefined && target.userToken === 'forward') {
      // Catalogue K4, RFC 6750 §5.3: a user's token goes only to a target it was issued for.
      if (principal?.audience.some((aud) => target.accepts.includes(aud)) !== true) {
        return Promise.reject(refuseUserToken(target, principal))
      }
      return { token: userToken, renew: undefined }
    }
    if (userToken !== undefined) {
      const { key, lease } = exchangeLease(userToken, target)
      return lease.then((l) =>
        renewable(
          key,
          target,
          l,
          () => exchangeLease(userToken, target).lease,
          (token) => {
            source.accepted(key, token)
          },
        ),
      )
    }
    const { key, fetcher, accept } = service(target)
    const again = () => serviceLease(target)
    // The steady state: the cached token, at once (a refresh, when due, starts in the background).
    const cached = source.cached(key, fetcher)
    if (cached !== undefined) return renewable(key, target, cached, again, accept)
    return again().then((l) => renewable(key, target, l, again, accept))
  }

  const interceptor = tokenInterceptor(planner, { maxReplayBytes })
  const base: Dispatcher = options.dispatcher ?? new Agent()
  const ownsBase = base !== options.dispatcher
  const dispatcher = base.compose(interceptor)

  let closing: Promise<void> | undefined
  const fetch: ServiceClient['fetch'] = (input, init) => undiciFetch(input, { ...init, dispatcher })
  const request: ServiceClient['request'] = (url, opts) =>
    undiciRequest(url, { ...opts, dispatcher })
  return Object.freeze({
    fetch,
    request,
    forPrincipal: (principal, response) => {
      const run =
        response === undefined
          ? <T>(fn: () => T): T => runWithPrincipal(principal, fn)
          : <T>(fn: () => T): T => runWithRequest(principal, response, fn)
      return Object.freeze({
        fetch: (input, init) => run(() => fetch(input, init)),
        request: (url, opts) => run(() => request(url, opts)),
      })
    },
    dispatcher,
    interceptor,
    async getToken(origin: string) {
      const target = targets.get(new URL(origin).origin)
      if (target === undefined)
        throw new TypeError(`svcauth client: ${origin} is not a configured target`)
      return (await serviceLease(target)).token
    },
    close() {
      // Idempotent: a second close() (shutdown hooks, test teardown) resolves as the first did.
      closing ??= (async () => {
        source.clear()
        if (ownsBase) await base.close()
      })()
      return closing
    },
  } satisfies ServiceClient)
}
