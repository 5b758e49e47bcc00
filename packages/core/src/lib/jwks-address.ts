/**
 * Where one issuer's JWKS lives: the configured `jwksUri`, or the `jwks_uri` of the issuer's
 * discovery metadata (OpenID Connect Discovery 1.0 §4, RFC 8414 §3). A discovered address is not
 * kept for the life of the process: the key source discovers it again on its background refresh
 * and after a failed key fetch (issue 14, R11), so an issuer that moves its keys is followed
 * without a restart. Re-discovered metadata passes the same checks as the first (issuer match,
 * `discoveredUrlProblem`), and a failed or refused re-discovery keeps the last good address.
 */
import type { Logger } from '../logger.js'
import { discover } from './discovery.js'
import type { FetchLimits } from './fetch-json.js'

export class JwksAddress {
  readonly #issuer: string
  readonly #configured: string | undefined
  readonly #allowInsecureHttp: boolean
  readonly #logger: Logger
  #discovered: string | undefined

  constructor(config: {
    readonly issuer: string
    readonly jwksUri: string | undefined
    readonly allowInsecureHttp: boolean
    readonly logger: Logger
  }) {
    this.#issuer = config.issuer
    this.#configured = config.jwksUri
    this.#allowInsecureHttp = config.allowInsecureHttp
    this.#logger = config.logger
  }

  /** The address known now (configured, or last discovered), if any. */
  get current(): string | undefined {
    return this.#configured ?? this.#discovered
  }

  /** The address to fetch, discovering it when none is known yet; throws when it cannot be had. */
  async get(limits: FetchLimits): Promise<string> {
    const known = this.current
    if (known !== undefined) return known
    const found = (await discover(this.#issuer, limits, this.#allowInsecureHttp)).jwks_uri
    this.#discovered = found
    return found
  }

  /**
   * Discovers the address again when it was discovered before (a configured address has nothing
   * to re-discover). Resolves true when it moved; never rejects: a failure is logged and the last
   * good address stays.
   */
  async rediscover(limits: FetchLimits): Promise<boolean> {
    const before = this.#discovered
    if (this.#configured !== undefined || before === undefined) return false
    let found: string
    try {
      found = (await discover(this.#issuer, limits, this.#allowInsecureHttp)).jwks_uri
    } catch (err) {
      this.#logger.error(
        {
          event: 'jwks_discovery_failed',
          issuer: this.#issuer,
          jwks_uri: before,
          error: err instanceof Error ? err.message : 'unknown error',
        },
        'svcauth: discovering the issuer metadata again failed; keeping the last good jwks_uri',
      )
      return false
    }
    if (found === before) return false
    this.#discovered = found
    this.#logger.warn(
      { event: 'jwks_uri_changed', issuer: this.#issuer, from: before, to: found },
      'svcauth: the issuer publishes its keys at a new address',
    )
    return true
  }
}
