/**
 * createMemoryStores: an in-process implementation of every `SvcauthStores` member (issue 21),
 * for tests that run several services, or several service clients, in one process and want them
 * to share state as a fleet on Redis would: one object passed as `stores` to each of them. Every
 * store is real: entries expire at their TTL, each store is bounded (`max` entries, the ones
 * closest to expiry dropped first once full of live entries), the lock has one holder per key
 * until released or expired, and `addIfAbsent` is atomic (JavaScript runs it in one turn).
 *
 * `setMode` makes every asynchronous operation fail (`'down'`), never answer (`'hang'`) or answer
 * late (`{ delay }`), to test what a service does when its shared store is unreachable or slow.
 * `isRevoked` keeps answering from memory in every mode, as the `RevocationList` contract asks.
 */
import type {
  Revocation,
  RevocationList,
  SharedCache,
  SharedLock,
  SharedSet,
  SvcauthStores,
} from '@svcauth/core'

export interface MemoryStoresOptions {
  /** Most entries per store (each cache, the set, the revocation list, the lock). @default 10000 */
  readonly max?: number
}

/** How the stores answer: normally, failing, never, or after `delay` ms. */
export type MemoryStoreMode = 'ok' | 'down' | 'hang' | { readonly delay: number }

/** A `SharedCache` whose content a test can read. */
export interface MemoryCache extends SharedCache {
  /** The keys of the live (unexpired) entries. */
  keys(): string[]
  /** The live value under `key`, read without going through the mode. */
  peek(key: string): string | undefined
  /** How many operations (get, set, delete) were called, whatever the mode. */
  readonly calls: number
}

/** A `SharedLock` whose holders a test can see. */
export interface MemoryLock extends SharedLock {
  /** Whether `key` is held now. */
  held(key: string): boolean
  /** How many times `acquire` handed out a release function. */
  readonly grants: number
}

/** A `SharedSet` whose content a test can read. */
export interface MemorySet extends SharedSet {
  /** The live keys. */
  keys(): string[]
}

/** Every member of `SvcauthStores`, in process. */
export interface MemoryStores extends SvcauthStores {
  readonly introspection: MemoryCache
  readonly revocations: RevocationList
  readonly dpopReplay: MemorySet
  readonly tokens: MemoryCache
  readonly lock: MemoryLock
  /** Changes how every store answers from now on (operations already waiting are unaffected). */
  setMode(mode: MemoryStoreMode): void
  /** Empties every store, as a Redis restart that lost its data would. */
  clear(): void
}

/** A bounded map of values with an expiry (epoch ms). */
class ExpiringMap<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>()
  readonly #max: number

  constructor(max: number) {
    this.#max = max
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(key)
      return undefined
    }
    return entry.value
  }

  set(key: string, value: V, expiresAt: number): void {
    this.#entries.delete(key)
    if (this.#entries.size >= this.#max) this.#evict()
    this.#entries.set(key, { value, expiresAt })
  }

  delete(key: string): void {
    this.#entries.delete(key)
  }

  keys(): string[] {
    const now = Date.now()
    return [...this.#entries].filter(([, e]) => e.expiresAt > now).map(([key]) => key)
  }

  clear(): void {
    this.#entries.clear()
  }

  /** Expired entries go; if still full, the entry closest to expiry (as Redis' volatile-ttl). */
  #evict(): void {
    const now = Date.now()
    for (const [key, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(key)
    if (this.#entries.size < this.#max) return
    let first: string | undefined
    let soonest = Infinity
    for (const [key, e] of this.#entries) {
      if (e.expiresAt < soonest) {
        soonest = e.expiresAt
        first = key
      }
    }
    if (first !== undefined) this.#entries.delete(first)
  }
}

/**
 * In-process shared stores for tests.
 *
 * @example
 * ```ts
 * const stores = createMemoryStores()
 * const replicas = [1, 2, 3].map(() =>
 *   createServiceClient({ tokenEndpoint: issuer.tokenEndpoint, clientId, clientSecret, targets, stores }),
 * )
 * // … a cold burst across the three makes one token request:
 * expect(issuer.tokenRequests).toHaveLength(1)
 * expect(stores.tokens.keys()).toHaveLength(1)
 * ```
 */
export function createMemoryStores(options: MemoryStoresOptions = {}): MemoryStores {
  const max = options.max ?? 10_000
  if (!Number.isInteger(max) || max < 1) {
    throw new TypeError('createMemoryStores: max must be a positive integer')
  }
  let mode: MemoryStoreMode = 'ok'
  /** Runs `op` as the current mode says. */
  const answer = <T>(op: () => T): Promise<T> => {
    const current = mode
    if (current === 'ok') return Promise.resolve().then(op)
    if (current === 'down') return Promise.reject(new Error('memory store: down'))
    if (current === 'hang') return new Promise<T>(() => undefined)
    const { delay } = current
    return new Promise<void>((resolve) => setTimeout(resolve, delay)).then(op)
  }

  const cache = (): MemoryCache & { clear(): void } => {
    const map = new ExpiringMap<string>(max)
    let calls = 0
    return {
      get(key) {
        calls++
        return answer(() => map.get(key))
      },
      set(key, value, ttlMs) {
        calls++
        return answer(() => {
          if (ttlMs > 0) map.set(key, value, Date.now() + ttlMs)
          else map.delete(key)
        })
      },
      delete(key) {
        calls++
        return answer(() => {
          map.delete(key)
        })
      },
      keys: () => map.keys(),
      peek: (key) => map.get(key),
      get calls() {
        return calls
      },
      clear: () => {
        map.clear()
      },
    }
  }

  const seen = new ExpiringMap<true>(max)
  const dpopReplay: MemorySet = {
    addIfAbsent(key, expiresAt) {
      return answer(() => {
        if (seen.get(key) !== undefined) return false
        seen.set(key, true, expiresAt)
        return true
      })
    },
    keys: () => seen.keys(),
  }

  const revoked = new ExpiringMap<true>(max)
  const revocationKey = (issuer: string, tokenId: string): string =>
    JSON.stringify([issuer, tokenId])
  const revocations: RevocationList = {
    isRevoked: (issuer, tokenId) => revoked.get(revocationKey(issuer, tokenId)) !== undefined,
    revoke(revocation: Revocation) {
      const expiresAt =
        revocation.expiresAt instanceof Date ? revocation.expiresAt.getTime() : revocation.expiresAt
      return answer(() => {
        revoked.set(revocationKey(revocation.issuer, revocation.tokenId), true, expiresAt)
      })
    },
  }

  // Each grant has its own identity: a holder whose lease expired cannot release the next one's.
  const holders = new ExpiringMap<symbol>(max)
  let grants = 0
  const lock: MemoryLock = {
    acquire(key, ttlMs) {
      return answer(() => {
        if (holders.get(key) !== undefined) return undefined
        const holder = Symbol(key)
        holders.set(key, holder, Date.now() + ttlMs)
        grants++
        return () =>
          answer(() => {
            if (holders.get(key) === holder) holders.delete(key)
          })
      })
    },
    held: (key) => holders.get(key) !== undefined,
    get grants() {
      return grants
    },
  }

  const introspection = cache()
  const tokens = cache()
  return {
    introspection,
    revocations,
    dpopReplay,
    tokens,
    lock,
    setMode(next) {
      mode = next
    },
    clear() {
      introspection.clear()
      tokens.clear()
      seen.clear()
      revoked.clear()
      holders.clear()
    },
  }
}
