/**
 * Where the RFC 7662 introspection endpoint is: configured, or `introspection_endpoint` from the
 * issuer's discovery metadata (RFC 8414 §2, same checks as every discovered address: issuer
 * match, `discoveredUrlProblem`). A discovered endpoint is not kept for the life of the process:
 * after a failed call it is discovered again, and a moved endpoint is used (issue 14, R11, as for
 * the JWKS). Discovery runs one at a time and at most once per cooldown, failures included, so a
 * storm of requests against a broken authorization server costs a bounded number of fetches; a
 * failed or refused re-discovery keeps the last good endpoint.
 */
import { discover } from './discovery.js'
import { FetchError, type FetchLimits } from './fetch-json.js'
import { assertDiscoveredUrl } from './urls.js'

export class IntrospectionEndpoint {
  readonly #issuer: string
  readonly #configured: string | undefined
  readonly #allowInsecureHttp: boolean
  readonly #cooldown: number
  #known: string | undefined
  #inFlight: Promise<string> | undefined
  #lastAttempt = Number.NEGATIVE_INFINITY

  constructor(config: {
    readonly issuer: string
    readonly endpoint: string | undefined
    readonly allowInsecureHttp: boolean
    /** Minimum time between two discoveries, ms. */
    readonly cooldown: number
  }) {
    this.#issuer = config.issuer
    this.#configured = config.endpoint
    this.#allowInsecureHttp = config.allowInsecureHttp
    this.#cooldown = config.cooldown
  }

  /** The configured or last discovered endpoint, else one discovered now (when allowed). */
  get(limits: FetchLimits): Promise<string> {
    const known = this.#configured ?? this.#known
    return known === undefined ? this.#discover(limits) : Promise.resolve(known)
  }

  /**
   * After a failed call to a discovered `endpoint`: discovers again when the cooldown allows (or
   * joins a discovery in flight). Resolves the address to try instead when the endpoint moved,
   * else undefined; never rejects.
   */
  async moved(endpoint: string, limits: FetchLimits): Promise<string | undefined> {
    if (this.#configured !== undefined) return undefined
    // A call that started before a concurrent re-discovery finished: use its answer.
    if (this.#known !== undefined && this.#known !== endpoint) return this.#known
    if (this.#inFlight === undefined && !this.#cooledDown()) return undefined
    const found = await this.#discover(limits).catch(() => undefined)
    return found === endpoint ? undefined : found
  }

  #cooledDown(): boolean {
    return performance.now() - this.#lastAttempt >= this.#cooldown
  }

  #discover(limits: FetchLimits): Promise<string> {
    if (this.#inFlight !== undefined) return this.#inFlight
    if (!this.#cooledDown()) {
      return Promise.reject(new FetchError('discovery failed recently; waiting for the cooldown'))
    }
    this.#lastAttempt = performance.now()
    const issuer = this.#issuer
    const allowHttp = this.#allowInsecureHttp
    const flight = discover(issuer, { ...limits, maxBytes: 262_144 }, allowHttp).then((meta) => {
      const endpoint = meta.introspection_endpoint
      if (typeof endpoint !== 'string') throw new Error('metadata has no introspection_endpoint')
      const found = assertDiscoveredUrl(
        'discovered introspection_endpoint',
        issuer,
        endpoint,
        allowHttp,
      )
      this.#known = found
      return found
    })
    this.#inFlight = flight.finally(() => {
      this.#inFlight = undefined
    })
    return this.#inFlight
  }
}
