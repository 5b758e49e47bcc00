/**
 * Where token requests go. A configured `tokenEndpoint` is used as it is. With `issuer`, the
 * endpoint comes from the issuer's metadata (OpenID Connect Discovery 1.0 §4, then RFC 8414 §3),
 * whose `issuer` must match (RFC 8414 §3.3) and whose address passes the discovered-URL policy
 * (catalogue L2), and it is not kept for the life of the process, since an issuer may move it
 * (issue 14, R11):
 * - a token request that fails as if the endpoint had moved (no answer at all, a redirect, 404,
 *   405, 410 or 5xx) runs discovery again, at most once per `cooldown`, and a changed endpoint is retried at
 *   once;
 * - a token request made once the last discovery is `refreshInterval` old runs discovery again in
 *   the background and uses the current endpoint meanwhile.
 * A failed discovery keeps the last good endpoint; concurrent discoveries share one request.
 * A client doing mutual TLS (`mtls`) uses the metadata's `mtls_endpoint_aliases.token_endpoint`
 * when there is one (RFC 8705 §5: such a client MUST use the alias), checked as the token endpoint.
 */
import { assertDiscoveredUrl, discoverMetadata, type HttpAllowance } from '@svcauth/core/internal'
import { TokenEndpointError } from './errors.js'
import type { TokenLimits } from './lib/token-request.js'
import type { ClientLogger } from './options.js'

export interface TokenEndpoints {
  /** The endpoint for the next token request. */
  current(): Promise<string>
  /**
   * After a token request at `url` failed with `err`: another endpoint to retry at, when the
   * failure suggests the endpoint moved and discovery (within its cooldown) names a new one.
   */
  moved(url: string, err: TokenEndpointError): Promise<string | undefined>
}

export interface DiscoveryTiming {
  /** Least ms between two discoveries of the token endpoint. */
  readonly cooldown: number
  /** Age in ms after which a token request refreshes the metadata in the background. */
  readonly refreshInterval: number
}

/** A configured endpoint: never discovered, never changed. */
export function fixedEndpoint(url: string): TokenEndpoints {
  const current = Promise.resolve(url)
  return { current: () => current, moved: () => Promise.resolve(undefined) }
}

/** The issuer's discovered endpoint, discovered again as the module header says. */
export function discoveredEndpoint(
  issuer: string,
  limits: TokenLimits,
  allowInsecureHttp: HttpAllowance,
  timing: DiscoveryTiming,
  logger: ClientLogger | undefined,
  mtls = false,
): TokenEndpoints {
  let good: string | undefined
  let discoveredAt = -Infinity
  let triedAt = -Infinity
  let flight: Promise<string> | undefined

  const discover = (): Promise<string> => {
    flight ??= (async () => {
      triedAt = performance.now()
      try {
        const meta = await discoverMetadata(
          issuer,
          { ...limits, maxBytes: 262_144 },
          allowInsecureHttp,
        )
        const alias = mtls ? mtlsAlias(meta.mtls_endpoint_aliases) : undefined
        const url = assertDiscoveredUrl(
          alias === undefined
            ? 'discovered token_endpoint'
            : 'discovered mtls_endpoint_aliases.token_endpoint',
          issuer,
          alias ?? meta.token_endpoint,
          allowInsecureHttp,
        )
        if (good !== undefined && url !== good) {
          logger?.info?.(
            { event: 'token_endpoint_changed', issuer, token_endpoint: url, previous: good },
            'svcauth: the issuer moved its token endpoint',
          )
        }
        good = url
        discoveredAt = performance.now()
        return url
      } catch (cause) {
        if (good !== undefined) {
          logger?.warn(
            {
              event: 'token_endpoint_discovery_failed',
              issuer,
              token_endpoint: good,
              error: cause instanceof Error ? cause.message : String(cause),
            },
            'svcauth: discovery failed; the last good token endpoint stays in use',
          )
        }
        throw new TokenEndpointError(
          cause instanceof TypeError ? 'invalid_response' : 'network_error',
          {
            description: cause instanceof TypeError ? cause.message : 'discovery failed',
            origin: new URL(issuer).origin,
            cause,
          },
        )
      } finally {
        flight = undefined
      }
    })()
    return flight
  }

  return {
    current() {
      if (good === undefined) return discover()
      const now = performance.now()
      if (now - discoveredAt >= timing.refreshInterval && now - triedAt >= timing.cooldown) {
        // Failures are logged in discover(); the last good endpoint serves meanwhile.
        discover().catch(() => undefined)
      }
      return Promise.resolve(good)
    },
    async moved(url, err) {
      if (!suggestsMove(err)) return undefined
      const running = flight
      const next =
        running ?? (performance.now() - triedAt >= timing.cooldown ? discover() : undefined)
      if (next === undefined) return undefined
      const found = await next.catch(() => undefined)
      return found === url ? undefined : found
    },
  }
}

/**
 * The token endpoint's alias in RFC 8705 §5 `mtls_endpoint_aliases`, if the metadata has one (any
 * value but undefined is checked as a URL, so a malformed one fails discovery, not silently).
 */
function mtlsAlias(aliases: unknown): unknown {
  if (aliases === undefined) return undefined
  if (typeof aliases !== 'object' || aliases === null || Array.isArray(aliases)) {
    throw new TypeError('svcauth: discovered mtls_endpoint_aliases must be a JSON object')
  }
  return (aliases as Record<string, unknown>).token_endpoint
}

/**
 * A failure an endpoint that moved would cause: nothing answering (network_error, which includes
 * timeouts), a redirect (never followed: the metadata is asked instead), a path that is gone (404,
 * 405, 410), or a server failing behind a proxy (5xx). OAuth refusals (invalid_client,
 * invalid_scope, …) come from a live endpoint and say nothing.
 */
function suggestsMove(err: TokenEndpointError): boolean {
  const { status } = err
  if (status === undefined) return err.error === 'network_error'
  return (
    (status >= 300 && status < 400) ||
    status === 404 ||
    status === 405 ||
    status === 410 ||
    status >= 500
  )
}
