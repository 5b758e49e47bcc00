/**
 * One address an issuer publishes in its discovery metadata (OpenID Connect Discovery 1.0 §4,
 * RFC 8414 §2–3): the `jwks_uri` of the key source, or the RFC 7662 `introspection_endpoint`. A
 * configured address is used as it is. A discovered one is not kept for the life of the process:
 * it is discovered again after a failed call (and, for keys, on the background refresh), so an
 * issuer that moves it is followed without a restart (issue 14, R11). Re-discovered metadata
 * passes the same checks as the first (issuer match, `discoveredUrlProblem`), and a failed or
 * refused re-discovery keeps the last good address. Discoveries run one at a time and at most
 * once per `cooldown`, failures included, so a storm of requests against a broken authorization
 * server costs a bounded number of fetches.
 */
import { discover } from './discovery.js'
import type { HttpLimits } from './http.js'
import { assertDiscoveredUrl, type HttpAllowance } from './urls.js'

export interface DiscoveredAddressConfig {
  readonly issuer: string
  /** The metadata member that holds the address. */
  readonly member: 'jwks_uri' | 'introspection_endpoint'
  /** The configured address, when there is one: never discovered, never changed. */
  readonly configured: string | undefined
  readonly allowInsecureHttp: HttpAllowance
  /** Least time between two discoveries, ms; 0 when the caller paces its fetches itself. */
  readonly cooldown: number
  /** Metadata requests get their own body cap (metadata is small; key sets may not be). */
  readonly maxBytes: number
}

export class DiscoveredAddress {
  readonly #config: DiscoveredAddressConfig
  #known: string | undefined
  #inFlight: Promise<string> | undefined
  #lastAttempt = Number.NEGATIVE_INFINITY

  constructor(config: DiscoveredAddressConfig) {
    this.#config = config
  }

  /** The address known now (configured, or last discovered), if any. */
  get current(): string | undefined {
    return this.#config.configured ?? this.#known
  }

  /** The address known now, else one discovered now (when the cooldown allows). */
  get(limits: HttpLimits): Promise<string> {
    const known = this.current
    return known === undefined ? this.#discover(limits) : Promise.resolve(known)
  }

  /**
   * After a failed call to the discovered address `from`: discovers again when the cooldown
   * allows (or joins a discovery in flight). Resolves the address to use instead when it moved,
   * else undefined. Never rejects: a failed discovery goes to `onFailure`.
   */
  async moved(
    from: string,
    limits: HttpLimits,
    onFailure?: (err: unknown) => void,
  ): Promise<string | undefined> {
    if (this.#config.configured !== undefined || this.#known === undefined) return undefined
    // A call that started before a concurrent re-discovery finished: use its answer.
    if (this.#known !== from) return this.#known
    if (this.#inFlight === undefined && !this.#cooledDown()) return undefined
    let found: string
    try {
      found = await this.#discover(limits)
    } catch (err) {
      onFailure?.(err)
      return undefined
    }
    return found === from ? undefined : found
  }

  #cooledDown(): boolean {
    return performance.now() - this.#lastAttempt >= this.#config.cooldown
  }

  #discover(limits: HttpLimits): Promise<string> {
    if (this.#inFlight !== undefined) return this.#inFlight
    if (!this.#cooledDown()) {
      return Promise.reject(new Error('discovery failed recently; waiting for the cooldown'))
    }
    this.#lastAttempt = performance.now()
    const { issuer, member, allowInsecureHttp, maxBytes } = this.#config
    const flight = discover(issuer, { ...limits, maxBytes }, allowInsecureHttp).then((meta) => {
      const value = meta[member]
      if (typeof value !== 'string') throw new Error(`metadata has no ${member}`)
      const found = assertDiscoveredUrl(`discovered ${member}`, issuer, value, allowInsecureHttp)
      this.#known = found
      return found
    })
    this.#inFlight = flight.finally(() => {
      this.#inFlight = undefined
    })
    return this.#inFlight
  }
}
