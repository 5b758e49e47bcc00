/**
 * The token cache: one entry per key (endpoint, client, scope, audience/resource, or a hashed
 * subject token), in lru-cache. Lifetimes run on the monotonic clock from when the request was
 * sent. A token is refreshed ahead of expiry in the background (at 80% of its lifetime or `skew`
 * seconds before it ends, whichever is earlier, never before half of it, with jitter), so callers
 * do not wait in steady state. Concurrent misses share one request (single-flight). Failures back
 * off exponentially with jitter and honour `Retry-After`; while a still-valid token exists it keeps
 * being used; with none, callers fail closed at once until the backoff ends. A fetcher learns the
 * token it must not hand back (`avoid`: the one being refreshed, or the one a target rejected), so
 * a fleet's shared cache (shared-tokens.ts, issue 21) never returns it.
 */
import { LRUCache } from 'lru-cache'
import { TokenEndpointError, isTokenEndpointError } from './errors.js'
import type { IssuedToken } from './lib/token-request.js'

export interface TokenSourceOptions {
  /** Most cached tokens. */
  readonly max: number
  /** Seconds before expiry at which a refresh starts, at most. */
  readonly refreshSkew: number
  /** Seconds a token lives when the server gives no `expires_in`. */
  readonly defaultLifetime: number
  /** Longest lifetime believed, seconds. */
  readonly maxLifetime: number
  /** First backoff delay after a failure, ms. */
  readonly minDelay: number
  /** Longest backoff delay, ms. */
  readonly maxDelay: number
}

interface Entry {
  readonly token: string
  /** What `cached()` hands out: made once, when the token is installed. */
  readonly lease: Lease
  readonly expiresAt: number
  readonly refreshAt: number
  readonly generation: number
  /** Taken from the fleet's shared cache (issue 21), not issued for this replica's request. */
  readonly shared: boolean
  /** A target has answered a call made with this token with success. */
  accepted: boolean
}

interface Backoff {
  readonly failures: number
  readonly retryAt: number
  readonly error: TokenEndpointError
}

/** A token handed to a caller; `fresh` when this very call waited for it to be fetched. */
export interface Lease {
  readonly token: string
  readonly fresh: boolean
  /** A DPoP-bound token (RFC 9449 §5, `token_type: DPoP`), presented with a proof. */
  readonly dpop: boolean
  /**
   * `x5t#S256` of the client certificate the token is bound to (RFC 8705 §3): sent only over
   * connections presenting it. Undefined for a token obtained without a certificate.
   */
  readonly certificate: string | undefined
}

/**
 * Fetches a token; `refresh` when a still-valid token is being replaced ahead of expiry. `avoid`
 * is the token being replaced (refreshed, expired, or rejected by a target): a fetcher that reads
 * a shared cache must not answer it.
 */
export type Fetcher = (refresh: boolean, avoid: string | undefined) => Promise<IssuedToken>

/**
 * Seconds after it was sent that a token of `lifetime` seconds is refreshed: at 80% of it or
 * `skew` seconds before it ends, whichever is earlier, never before half of it (no refresh loop
 * when `expires_in` is below the skew). Without jitter; the cache subtracts its own.
 */
export function refreshAfter(lifetime: number, skew: number): number {
  return Math.max(lifetime * 0.5, Math.min(lifetime * 0.8, lifetime - skew))
}

export class TokenSource {
  readonly #options: TokenSourceOptions
  readonly #cache: LRUCache<string, Entry>
  readonly #backoff: LRUCache<string, Backoff>
  readonly #flights = new Map<string, Promise<Entry>>()
  /** When a 401 last forced a refresh, per key. */
  readonly #forced: LRUCache<string, number>
  /** The last token a 401 made us drop, per key: a fetch must not bring it back (issue 21). */
  readonly #rejected: LRUCache<string, string>
  #generation = 0

  constructor(options: TokenSourceOptions) {
    this.#options = options
    this.#cache = new LRUCache({ max: options.max })
    this.#backoff = new LRUCache({ max: options.max })
    this.#forced = new LRUCache({ max: options.max })
    this.#rejected = new LRUCache({ max: options.max })
  }

  /**
   * The cached token for `key` when it is still valid (starting a background refresh with
   * `fetcher` when one is due), else undefined. Synchronous: the path every call takes.
   */
  cached(key: string, fetcher: Fetcher): Lease | undefined {
    const entry = this.#cache.get(key)
    if (entry === undefined) return undefined
    const now = performance.now()
    if (now >= entry.expiresAt) return undefined
    if (now >= entry.refreshAt) this.#start(key, fetcher, true)?.catch(() => undefined)
    return entry.lease
  }

  /** A valid token for `key`, fetching it with `fetcher` when there is none. */
  async get(key: string, fetcher: Fetcher): Promise<Lease> {
    const cached = this.cached(key, fetcher)
    if (cached !== undefined) return cached
    const flight = this.#start(key, fetcher, false)
    if (flight === undefined)
      throw this.#backoff.get(key)?.error ?? new TokenEndpointError('server_error')
    const { token, lease, shared } = await flight
    // A token from the shared cache was not issued for this call: a 401 for it may be renewed.
    return { token, fresh: !shared, dpop: lease.dpop, certificate: lease.certificate }
  }

  /** Records that a target accepted `token`, if it is still the one cached for `key`. */
  accepted(key: string, token: string): void {
    const entry = this.#cache.peek(key)
    if (entry !== undefined && !entry.accepted && entry.token === token) entry.accepted = true
  }

  /**
   * Drops the cached token for `key` only if it is still `token` (compare-and-invalidate). A token
   * no target has accepted yet is dropped at most once per `minDelay` per key, so a target that
   * rejects every token (a misconfigured audience, say) costs one token request per window instead
   * of one per call (catalogue K8). A token that was accepted and is now rejected was revoked: it
   * is dropped at once, however recent the last forced refresh (issue 14, R12).
   */
  invalidate(key: string, token: string): boolean {
    const entry = this.#cache.get(key)
    if (entry?.token !== token) return false
    const now = performance.now()
    if (!entry.accepted) {
      const last = this.#forced.get(key)
      if (last !== undefined && now - last < this.#options.minDelay) return false
    }
    this.#forced.set(key, now)
    this.#rejected.set(key, token)
    this.#cache.delete(key)
    return true
  }

  /** Test and operator hook: the cached token for `key`, if any. */
  peek(key: string): string | undefined {
    return this.#cache.get(key)?.token
  }

  /** Drops every token, backoff and forced-refresh record whose key `matches`. */
  evict(matches: (key: string) => boolean): void {
    dropKeys(this.#cache, matches)
    dropKeys(this.#backoff, matches)
    dropKeys(this.#forced, matches)
    dropKeys(this.#rejected, matches)
  }

  clear(): void {
    this.#cache.clear()
    this.#backoff.clear()
    this.#forced.clear()
    this.#rejected.clear()
  }

  /** Starts (or joins) the fetch for `key`; undefined while backing off. */
  #start(key: string, fetcher: Fetcher, background: boolean): Promise<Entry> | undefined {
    const running = this.#flights.get(key)
    if (running !== undefined) return running
    const backoff = this.#backoff.get(key)
    if (backoff !== undefined && performance.now() < backoff.retryAt) {
      return background ? undefined : Promise.reject(backoff.error)
    }
    const generation = ++this.#generation
    const avoid = this.#cache.peek(key)?.token ?? this.#rejected.get(key)
    const flight = fetcher(background, avoid).then(
      (issued) => {
        this.#backoff.delete(key)
        return this.#install(key, issued, generation)
      },
      (err: unknown) => {
        const error = isTokenEndpointError(err)
          ? err
          : new TokenEndpointError('network_error', { cause: err })
        this.#fail(key, error)
        throw error
      },
    )
    const tracked = flight.finally(() => {
      if (this.#flights.get(key) === tracked) this.#flights.delete(key)
    })
    this.#flights.set(key, tracked)
    return tracked
  }

  #install(key: string, issued: IssuedToken, generation: number): Entry {
    const { defaultLifetime, maxLifetime, refreshSkew } = this.#options
    const lifetime = Math.min(issued.expiresIn ?? defaultLifetime, maxLifetime)
    const jitter = Math.random() * Math.min(lifetime * 0.05, 5)
    const refreshIn = refreshAfter(lifetime, refreshSkew)
    const entry: Entry = {
      token: issued.accessToken,
      lease: Object.freeze({
        token: issued.accessToken,
        fresh: false,
        dpop: issued.dpop,
        certificate: issued.certificate,
      }),
      expiresAt: issued.sentAt + lifetime * 1000,
      refreshAt: issued.sentAt + Math.max(0, refreshIn - jitter) * 1000,
      generation,
      shared: issued.shared === true,
      accepted: false,
    }
    const current = this.#cache.get(key)
    // An older fetch (e.g. one started before a secret rotation) never replaces a newer token.
    if (current !== undefined && current.generation > generation) return current
    if (lifetime > 0) this.#cache.set(key, entry)
    return entry
  }

  #fail(key: string, error: TokenEndpointError): void {
    const failures = (this.#backoff.get(key)?.failures ?? 0) + 1
    const { minDelay, maxDelay } = this.#options
    const base = Math.min(maxDelay, minDelay * 2 ** (failures - 1))
    let delay = base / 2 + (Math.random() * base) / 2
    if (error.retryAfter !== undefined)
      delay = Math.max(delay, Math.min(error.retryAfter * 1000, maxDelay))
    this.#backoff.set(key, { failures, retryAt: performance.now() + delay, error })
  }
}

function dropKeys(
  cache: { keys(): Iterable<string>; delete(key: string): boolean },
  matches: (key: string) => boolean,
): void {
  for (const key of [...cache.keys()]) if (matches(key)) cache.delete(key)
}
