/**
 * Issuers resolved at request time (issue 20, item 2): for multi-tenant services whose trusted
 * issuers are not known at start-up, `issuers` is a function from the token's unverified `iss`
 * (and the request) to that issuer's configuration, or undefined to refuse it.
 *
 * - The `iss` reaches the resolver only when it could name an issuer at all: a string of at most
 *   2048 characters that is an issuer URL under the same rules as configured ones (https, or an
 *   allowed plain-HTTP origin). Anything else is 401 `iss_invalid` before the resolver is called.
 * - An answer is validated like a configured issuer (`resolveIssuer`), and must be for the `iss`
 *   asked about; introspection is refused there (an opaque token names no issuer to resolve).
 * - Answers are kept per `iss` for `ttl` (LRU of `max` issuers, each with its own key source, so
 *   discovery and key fetches happen only for issuers the resolver returned, never for a refused
 *   `iss`). Concurrent lookups of one `iss` share one resolver call. Past `ttl` the resolver is
 *   asked again; the same configuration keeps its runtime (and keys), a changed one replaces it, a
 *   refusal removes it. A refusal is kept apart (10 × `max`, for min(`ttl`, 60 s)), so a flood of
 *   invented issuers neither reaches the resolver twice per issuer nor evicts a tenant.
 * - A resolver that throws, or answers with an invalid configuration, is an outage: 503
 *   `issuer_unavailable` with `Retry-After`, asked again after the key cooldown, logged at most
 *   once per 10 s; an issuer resolved before keeps being served meanwhile (like stale keys),
 *   except with `ttl` 0, where the last answer was for another request.
 * - Every runtime carries a liveness the verified-token cache reads (`usable`): a token verified
 *   under an answer is served from the cache only while that answer is fresh and in use, so a
 *   tenant removed by the resolver loses its cached tokens within `ttl`, and `ttl: 0` (answers
 *   that depend on the request) verifies every request afresh.
 */
import { LRUCache } from 'lru-cache'
import type { RequestLike } from './bearer.js'
import type { Reject } from './errors.js'
import {
  resolveIssuer,
  type IssuerConfig,
  type IssuerResolver,
  type ResolvedIssuer,
  type ResolvedIssuerCache,
} from './issuer-options.js'
import type { ResolvedJwksOptions } from './jwks-options.js'
import { fail } from './lib/checks.js'
import { LogThrottle } from './lib/log-throttle.js'
import { assertUrl, type HttpAllowance } from './lib/urls.js'
import type { Logger } from './logger.js'

/** Longest `iss` handed to the resolver. */
const MAX_ISS_LENGTH = 2048
/** Longest time a refusal is kept, ms: a tenant added later is seen within it. */
const MAX_REFUSAL_MS = 60_000
const LOG_INTERVAL_MS = 10_000

/** Whether a resolved issuer's answer still stands (read by the verified-token cache). */
export interface Liveness {
  /** Replaced, refused or evicted: nothing verified under it is served any more. */
  retired: boolean
  /** When the resolver last gave this answer (or an outage extended it), epoch ms. */
  checkedAt: number
}

export interface IssuerDirectoryConfig<R> {
  readonly resolve: IssuerResolver
  readonly cache: ResolvedIssuerCache
  /** Least time between two resolver calls for an `iss` after a failed one, ms. */
  readonly cooldown: number
  readonly allowInsecureHttp: HttpAllowance
  /** The caps keys given offline in an answer are checked against (`maxKeys`, `maxBytes`). */
  readonly jwks: ResolvedJwksOptions
  readonly logger: Logger
  readonly reject: Reject
  /** Builds (and starts) the runtime of a resolved issuer. */
  readonly create: (config: ResolvedIssuer, liveness: Liveness) => R
  /** Stops a runtime that is no longer used. */
  readonly close: (runtime: R) => void
}

interface Entry<R> {
  readonly runtime: R
  /** The answer, serialised: the same answer keeps the runtime. */
  readonly fingerprint: string
  readonly liveness: Liveness
}

interface Refusal {
  readonly reason: 'iss_invalid' | 'issuer_unavailable'
  readonly until: number
}

export class IssuerDirectory<R> {
  readonly #config: IssuerDirectoryConfig<R>
  readonly #entries: LRUCache<string, Entry<R>>
  readonly #refused: LRUCache<string, Refusal>
  readonly #flights = new Map<string, Promise<R>>()
  readonly #log = new LogThrottle(LOG_INTERVAL_MS)

  constructor(config: IssuerDirectoryConfig<R>) {
    this.#config = config
    this.#entries = new LRUCache<string, Entry<R>>({
      max: config.cache.max,
      // Evicted, replaced or deleted: retire it, so the cache stops serving what it verified.
      dispose: (entry) => {
        entry.liveness.retired = true
        config.close(entry.runtime)
      },
    })
    this.#refused = new LRUCache<string, Refusal>({ max: config.cache.max * 10 })
  }

  /** The runtime of `iss` when a fresh answer is held: no promise, no resolver call. */
  fresh(iss: string): R | undefined {
    const entry = this.#entries.get(iss)
    if (entry === undefined || Date.now() - entry.liveness.checkedAt >= this.#config.cache.ttl) {
      return undefined
    }
    return entry.runtime
  }

  /**
   * The runtime for `iss`, asking the resolver when no fresh answer is held; rejects with
   * `iss_invalid` (refused) or `issuer_unavailable` (the resolver failed).
   */
  resolve(iss: string, request: RequestLike | undefined): Promise<R> {
    const { reject } = this.#config
    const refusal = this.#refused.get(iss)
    if (refusal !== undefined) {
      const wait = refusal.until - Date.now()
      if (wait > 0) {
        return Promise.reject(
          refusal.reason === 'iss_invalid'
            ? reject('iss_invalid')
            : reject('issuer_unavailable', { retryAfter: Math.max(1, wait / 1000) }),
        )
      }
      this.#refused.delete(iss)
    }
    if (!this.#plausible(iss)) return Promise.reject(reject('iss_invalid'))
    // Answers that depend on the request (ttl 0) are not shared between requests.
    if (this.#config.cache.ttl === 0) return this.#ask(iss, request)
    let flight = this.#flights.get(iss)
    if (flight === undefined) {
      flight = this.#ask(iss, request).finally(() => this.#flights.delete(iss))
      this.#flights.set(iss, flight)
    }
    return flight
  }

  /** The runtimes held now, most recently used first. */
  runtimes(): R[] {
    return [...this.#entries.values()].map((entry) => entry.runtime)
  }

  /** Retires and stops every runtime. */
  close(): void {
    this.#entries.clear()
    this.#refused.clear()
  }

  #plausible(iss: string): boolean {
    if (iss.length === 0 || iss.length > MAX_ISS_LENGTH) return false
    try {
      assertUrl('iss', iss, this.#config.allowInsecureHttp, false)
      return true
    } catch {
      return false
    }
  }

  async #ask(iss: string, request: RequestLike | undefined): Promise<R> {
    let answer: IssuerConfig | undefined
    try {
      answer = await this.#config.resolve(iss, request)
    } catch (cause) {
      return this.#failed(iss, 'the issuer resolver failed', cause)
    }
    // A JavaScript resolver may answer null for nothing, as well as undefined.
    if (answer === undefined || (answer as unknown) === null) throw this.#refuse(iss)
    let resolved: ResolvedIssuer
    let fingerprint: string
    try {
      if ((answer as Partial<IssuerConfig>).introspection !== undefined) {
        fail('issuers(): introspection cannot be configured for a resolved issuer')
      }
      const { allowInsecureHttp, jwks } = this.#config
      resolved = resolveIssuer('issuers(): ', answer, allowInsecureHttp, jwks)
      fingerprint = JSON.stringify(answer)
    } catch (cause) {
      return this.#failed(iss, 'the issuer resolver answered with an invalid configuration', cause)
    }
    if (resolved.issuer !== iss) {
      this.#log.run((suppressed) => {
        this.#config.logger.warn(
          {
            event: 'issuer_resolver_mismatch',
            iss,
            resolved_issuer: resolved.issuer,
            ...(suppressed > 0 ? { suppressed } : {}),
          },
          'svcauth: the issuer resolver answered with the configuration of another issuer; refused',
        )
      })
      throw this.#refuse(iss)
    }
    const held = this.#entries.get(iss)
    if (held !== undefined && held.fingerprint === fingerprint) {
      held.liveness.checkedAt = Date.now()
      return held.runtime
    }
    const liveness: Liveness = { retired: false, checkedAt: Date.now() }
    const runtime = this.#config.create(resolved, liveness)
    // Replacing a changed answer disposes of (retires) the runtime it had.
    this.#entries.set(iss, { runtime, fingerprint, liveness })
    return runtime
  }

  /**
   * Refused: the runtime goes and the refusal is kept for a while; not with `ttl` 0, where the
   * refusal is for this request only (the issuer's keys stay for the next request it accepts).
   */
  #refuse(iss: string): unknown {
    const keep = Math.min(this.#config.cache.ttl, MAX_REFUSAL_MS)
    if (keep > 0) {
      this.#entries.delete(iss)
      this.#refused.set(iss, { reason: 'iss_invalid', until: Date.now() + keep })
    }
    return this.#config.reject('iss_invalid')
  }

  /**
   * The resolver failed: logged (throttled); the last good runtime keeps serving until the
   * cooldown passes, else 503 until then.
   */
  #failed(iss: string, message: string, cause: unknown): R {
    const { logger, cooldown, cache, reject } = this.#config
    this.#log.run((suppressed) => {
      logger.error(
        {
          event: 'issuer_resolver_failed',
          // `iss` comes from an unverified token: logged as such, never as a configured issuer.
          iss,
          error: cause instanceof Error ? cause.message : 'error',
          ...(suppressed > 0 ? { suppressed } : {}),
        },
        `svcauth: ${message}`,
      )
    })
    const held = this.#entries.get(iss)
    // Not where answers depend on the request (ttl 0): the last one is for another request.
    if (held !== undefined && cache.ttl > 0) {
      // Fresh again until the cooldown passes: then the resolver is asked again.
      held.liveness.checkedAt = Date.now() - cache.ttl + cooldown
      return held.runtime
    }
    this.#refused.set(iss, { reason: 'issuer_unavailable', until: Date.now() + cooldown })
    throw reject('issuer_unavailable', { retryAfter: Math.max(1, cooldown / 1000), cause })
  }
}
