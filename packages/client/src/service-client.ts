/**
 * createServiceClient: the outbound side in one object. It holds the service's client-credentials
 * tokens (RFC 6749 §4.4) per target, exchanges user tokens (RFC 8693) where a target asks for it,
 * and exposes fetch/request bound to an undici Agent composed with the token interceptor. This
 * file only wires the parts together: option resolution (resolve-options.ts), the client's
 * identity (client-identity.ts), the token endpoint (token-endpoint.ts), the token cache
 * (token-source.ts), the grant client (grant.ts), the token leases (leases.ts), renewal after a
 * 401 (renewal.ts), the planner (planner.ts), the DPoP prover when `dpop` is on (dpop.ts, RFC 9449),
 * mutual TLS when `tls` is given anywhere (client-tls.ts, RFC 8705), the fleet's shared token
 * cache when `stores` has one (shared-tokens.ts, issue 21), the interceptor and the dispatcher
 * (dispatcher.ts).
 */
import { enableRequestContext, type Principal } from '@svcauth/core'
import type { ResponseLike } from '@svcauth/core/internal'
import type { Dispatcher, fetch as undiciFetch } from 'undici'
import { ClientIdentity } from './client-identity.js'
import { createClientTls } from './client-tls.js'
import { assembleDispatcher } from './dispatcher.js'
import { DpopProver } from './dpop.js'
import { createGrant } from './grant.js'
import { serviceInterceptor } from './interceptor.js'
import { certificateKeyPart, createLeases } from './leases.js'
import type { ServiceClientOptions } from './options.js'
import { createPlanner } from './planner.js'
import { createRenewal } from './renewal.js'
import { resolveOptions } from './resolve-options.js'
import { SharedTokens } from './shared-tokens.js'
import { discoveredEndpoint, fixedEndpoint } from './token-endpoint.js'
import { TokenSource } from './token-source.js'

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
  /**
   * The Agent with the interceptor, for your own undici calls (never set it as the global
   * dispatcher). With `tls`, the client's own dispatcher, routing each origin to its TLS
   * configuration.
   */
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
  /**
   * The service's own token for a configured target origin (cached). With `tls`, it is bound to
   * the client certificate (RFC 8705 §3): of use only over connections presenting it.
   */
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
  const resolved = resolveOptions(options)
  const { targets, tokenEndpoint, issuer, logger } = resolved
  const identity = new ClientIdentity(resolved)
  // A target that takes user tokens reads the caller from the request context in svc.fetch:
  // requests must run inside it from now on (issue 17: otherwise it stays off, and free).
  if ([...targets.values()].some((t) => t.userToken !== 'never')) enableRequestContext()
  const tls = createClientTls(resolved.tls, targets, logger)
  const tokens = tls?.tokens
  // RFC 8705 §5: a client presenting a certificate sends token requests to the mTLS alias.
  const mtls = tokens?.certificate !== undefined
  const endpoints =
    tokenEndpoint === undefined
      ? discoveredEndpoint(
          issuer ?? '',
          tls?.discovery === undefined
            ? resolved.limits
            : { ...resolved.limits, dispatcher: tls.discovery },
          resolved.allowInsecureHttp,
          resolved.discovery,
          logger,
          mtls,
        )
      : fixedEndpoint(tokenEndpoint)
  const dpop =
    resolved.dpop === undefined ? undefined : new DpopProver(resolved.dpop, () => identity.id)
  const source = new TokenSource(resolved.cache)
  // Issue 21: a fleet shares its Bearer service tokens; DPoP- and certificate-bound ones are bound
  // to this replica's key (RFC 9449 §6, RFC 8705 §3) and stay in the process.
  const shared =
    resolved.stores === undefined || dpop !== undefined || mtls
      ? undefined
      : new SharedTokens(
          resolved.stores,
          resolved.cache,
          resolved.limits.timeout,
          logger,
          () => identity.id,
        )
  const leases = createLeases(
    source,
    createGrant(resolved, identity, endpoints, dpop, tokens),
    identity,
    tokenEndpoint ?? issuer,
    dpop?.jkt,
    mtls ? () => tokens.current().certificate : undefined,
    shared,
  )
  // A renewed client certificate: the tokens bound to the one it replaced go (RFC 8705 §3).
  tls?.onReplaced((thumbprint) => {
    const part = JSON.stringify(certificateKeyPart(thumbprint))
    source.evict((key) => key.includes(part))
  })
  const planner = createPlanner(
    targets,
    source,
    leases,
    createRenewal(source, identity, logger),
    logger,
  )
  const interceptor = serviceInterceptor(planner, resolved.maxReplayBytes, dpop, tls?.calls)
  const assembled = assembleDispatcher(
    interceptor,
    resolved.dispatcher ?? tls?.calls,
    () => {
      source.clear()
    },
    tls !== undefined,
  )
  return Object.freeze({
    ...assembled,
    interceptor,
    async getToken(origin: string) {
      const target = targets.get(new URL(origin).origin)
      if (target === undefined)
        throw new TypeError(`svcauth client: ${origin} is not a configured target`)
      return (await leases.service(target).lease()).token
    },
  } satisfies ServiceClient)
}
