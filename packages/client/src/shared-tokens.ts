/**
 * The fleet's shared token cache (issue 21): the service's client-credentials tokens (RFC 6749
 * §4.4) kept in `stores.tokens` (Redis: encrypted by the store) so that the replicas of a service
 * share them, with `stores.lock` making one token request for the whole fleet. It wraps the
 * fetcher of a service token, so it runs only where the per-process cache (token-source.ts) would
 * send a request: on a local miss, or when a refresh is due.
 *
 * 1. The shared entry is read; a token with enough life left (the refresh rule of the local cache,
 *    `refreshAfter`) and not the one being replaced (`avoid`: refreshed, or rejected by a target
 *    with a 401) is installed without a request.
 * 2. Otherwise the lock is taken for the token request timeout. The holder reads once more (the
 *    previous holder may have just written), requests, writes the token for its remaining
 *    lifetime, and releases. A replica that did not get the lock polls the entry every
 *    `POLL_MS`, trying the lock again each time (a holder whose request failed releases it), for
 *    at most the request timeout, then requests on its own.
 * 3. A store that fails or is slow never breaks a call: every store operation is bounded
 *    (`STORE_WAIT_MS`, at most the request timeout); a failure or a timeout is a miss, or "go on
 *    alone" for the lock, and logs `token_store_failed` at most once a minute per client.
 *
 * Only Bearer client-credentials tokens are shared. User tokens are never here (forwarded as they
 * are), exchanged tokens are per user (RFC 8693), and sender-constrained tokens (DPoP, RFC 9449
 * §6; certificate-bound, RFC 8705 §3) are bound to this replica's key: service-client.ts gives no
 * shared cache to a client with `dpop` or a client certificate, and a DPoP or bound token is never
 * written in any case. The store key is `token:` and the SHA-256 of the local cache key (endpoint,
 * client id, scope, audience, resource): no token, no secret. The value holds the token, its type,
 * scope and its issue and expiry times in epoch ms (the local cache runs on the monotonic clock:
 * converted at the boundary, so replicas' clocks must agree to within a few seconds, as NTP gives).
 */
import { createHash } from 'node:crypto'
import type { SharedCache, SharedLock } from '@svcauth/core'
import { LogThrottle } from '@svcauth/core/internal'
import { B64TOKEN } from './lib/b64token.js'
import type { IssuedToken } from './lib/token-request.js'
import type { ClientLogger } from './options.js'
import { refreshAfter, type Fetcher, type TokenSourceOptions } from './token-source.js'

/** The members of `stores` the client uses. */
export interface ClientStores {
  readonly tokens: SharedCache
  /** Without it, replicas share tokens but each may request one on a cold start. */
  readonly lock: SharedLock | undefined
}

/** Longest wait for one store operation, ms (and never more than the token request timeout). */
export const STORE_WAIT_MS = 500
/** Interval at which a replica waiting for another's token request reads the entry, ms. */
export const POLL_MS = 25
/** At most one `token_store_failed` line per client per window, ms. */
const LOG_WINDOW_MS = 60_000

/** What the store holds for one token: nothing secret but the token, which the store encrypts. */
interface SharedEntry {
  readonly accessToken: string
  readonly tokenType: 'Bearer'
  readonly scope?: string
  /** Epoch ms when the token request was sent. */
  readonly issuedAt: number
  /** Epoch ms when the token expires (capped by `maxLifetime`). */
  readonly expiresAt: number
}

/** A read: a usable token, nothing usable, or a store that did not answer. */
type Read = IssuedToken | 'miss' | 'failed'

const FAILED = Symbol('failed')

/** The store key of the local cache key `key`: never a token or a secret. */
export function sharedTokenKey(key: string): string {
  return `token:${createHash('sha256').update(key).digest('base64url')}`
}

export class SharedTokens {
  readonly #stores: ClientStores
  readonly #cache: TokenSourceOptions
  readonly #timeout: number
  readonly #wait: number
  readonly #logger: ClientLogger | undefined
  readonly #clientId: () => string
  /** One `token_store_failed` line per window (the suppressed count is not logged). */
  readonly #log = new LogThrottle(LOG_WINDOW_MS)

  constructor(
    stores: ClientStores,
    cache: TokenSourceOptions,
    timeout: number,
    logger: ClientLogger | undefined,
    clientId: () => string,
  ) {
    this.#stores = stores
    this.#cache = cache
    this.#timeout = timeout
    this.#wait = Math.min(STORE_WAIT_MS, timeout)
    this.#logger = logger
    this.#clientId = clientId
  }

  /** `fetcher`, going through the shared cache first, for the local cache key `key`. */
  wrap(key: string, fetcher: Fetcher): Fetcher {
    const id = sharedTokenKey(key)
    return async (refresh, avoid) => {
      const found = await this.#read(id, avoid)
      if (typeof found === 'object') return found
      const lock = this.#stores.lock
      if (found === 'failed' || lock === undefined) return this.#alone(id, fetcher, refresh, avoid)
      const deadline = performance.now() + this.#timeout
      for (;;) {
        const release = await this.#acquire(lock, id)
        if (release === 'failed') return this.#alone(id, fetcher, refresh, avoid)
        if (release !== undefined) return this.#holder(id, fetcher, refresh, avoid, release)
        // Another replica is requesting: wait for what it writes, within the request timeout.
        if (performance.now() + POLL_MS >= deadline) return this.#alone(id, fetcher, refresh, avoid)
        await new Promise((resolve) => setTimeout(resolve, POLL_MS))
        const polled = await this.#read(id, avoid)
        if (typeof polled === 'object') return polled
        if (polled === 'failed') return this.#alone(id, fetcher, refresh, avoid)
      }
    }
  }

  /** The lock holder: one more read, else the request, written before the lock is released. */
  async #holder(
    id: string,
    fetcher: Fetcher,
    refresh: boolean,
    avoid: string | undefined,
    release: () => Promise<void>,
  ): Promise<IssuedToken> {
    try {
      const found = await this.#read(id, avoid)
      if (typeof found === 'object') return found
      const issued = await fetcher(refresh, avoid)
      await this.#write(id, issued)
      return issued
    } finally {
      void this.#bounded('release', release)
    }
  }

  /** Without the store: this replica requests, and the write (in the background) may still work. */
  async #alone(
    id: string,
    fetcher: Fetcher,
    refresh: boolean,
    avoid: string | undefined,
  ): Promise<IssuedToken> {
    const issued = await fetcher(refresh, avoid)
    void this.#write(id, issued)
    return issued
  }

  async #read(id: string, avoid: string | undefined): Promise<Read> {
    const text = await this.#bounded('get', () => this.#stores.tokens.get(id))
    if (text === FAILED) return 'failed'
    if (text === undefined) return 'miss'
    const entry = parseEntry(text)
    if (entry === undefined || entry.accessToken === avoid) return 'miss'
    const now = Date.now()
    const lifetime = Math.min((entry.expiresAt - entry.issuedAt) / 1000, this.#cache.maxLifetime)
    // The local refresh rule: a token due for refresh here is no better than none.
    if (now >= entry.issuedAt + refreshAfter(lifetime, this.#cache.refreshSkew) * 1000) {
      return 'miss'
    }
    return {
      accessToken: entry.accessToken,
      expiresIn: lifetime,
      dpop: false,
      shared: true,
      sentAt: performance.now() - (now - entry.issuedAt),
      response: Object.freeze(entry.scope === undefined ? {} : { scope: entry.scope }),
    }
  }

  async #write(id: string, issued: IssuedToken): Promise<void> {
    // Sender-constrained tokens are bound to this replica's key; a shared one is there already.
    if (issued.dpop || issued.certificate !== undefined || issued.shared === true) return
    const { defaultLifetime, maxLifetime } = this.#cache
    const lifetime = Math.min(issued.expiresIn ?? defaultLifetime, maxLifetime)
    const now = Date.now()
    const issuedAt = now - (performance.now() - issued.sentAt)
    const expiresAt = Math.floor(issuedAt + lifetime * 1000)
    const ttl = expiresAt - now
    if (ttl <= 0) return
    const scope = issued.response.scope
    const entry: SharedEntry = {
      accessToken: issued.accessToken,
      tokenType: 'Bearer',
      ...(typeof scope === 'string' ? { scope } : {}),
      issuedAt: Math.floor(issuedAt),
      expiresAt,
    }
    await this.#bounded('set', () => this.#stores.tokens.set(id, JSON.stringify(entry), ttl))
  }

  /** The release function, undefined when another replica holds the lock, or 'failed'. */
  async #acquire(
    lock: SharedLock,
    id: string,
  ): Promise<(() => Promise<void>) | undefined | 'failed'> {
    const pending = settle(() => lock.acquire(id, this.#timeout))
    const result = await this.#bounded('acquire', () => pending)
    if (result !== FAILED) return result
    // Granted too late to be used: released at once rather than left to expire.
    void pending.then((release) => release?.()).catch(() => undefined)
    return 'failed'
  }

  /** `op`, within the store wait; FAILED when it failed or took longer (logged). */
  async #bounded<T>(operation: string, op: () => Promise<T>): Promise<T | typeof FAILED> {
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<typeof FAILED>((resolve) => {
      timer = setTimeout(resolve, this.#wait, FAILED)
      timer.unref()
    })
    try {
      const result = await Promise.race([settle(op), expired])
      if (result === FAILED) this.#failed(operation, 'timeout')
      return result
    } catch (err) {
      this.#failed(operation, errorName(err))
      return FAILED
    } finally {
      clearTimeout(timer)
    }
  }

  #failed(operation: string, error: string): void {
    this.#log.run(() => {
      this.#logger?.warn(
        { event: 'token_store_failed', client_id: this.#clientId(), operation, error },
        'svcauth: the shared token store did not answer; this replica requests its own tokens',
      )
    })
  }
}

/** `op()` as a promise, a synchronous throw included. */
function settle<T>(op: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(op())
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)))
  }
}

/** The error's name or code, never its message (a store's message may quote anything). */
function errorName(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const { code, name } = err as { code?: unknown; name?: unknown }
    if (typeof code === 'string') return code
    if (typeof name === 'string') return name
  }
  return 'error'
}

/** The entry, checked; undefined for anything malformed (then a miss, overwritten later). */
function parseEntry(text: string): SharedEntry | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const e = value as Record<string, unknown>
  if (
    typeof e.accessToken !== 'string' ||
    !B64TOKEN.test(e.accessToken) ||
    e.tokenType !== 'Bearer' ||
    (e.scope !== undefined && typeof e.scope !== 'string') ||
    typeof e.issuedAt !== 'number' ||
    typeof e.expiresAt !== 'number' ||
    !Number.isFinite(e.issuedAt) ||
    !(e.expiresAt > e.issuedAt)
  ) {
    return undefined
  }
  return value as SharedEntry
}
