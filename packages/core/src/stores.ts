/**
 * Shared state for fleets (issue 21; DESIGN.md "Scale"): the small interfaces a store shared by
 * every replica of a service (Redis: `@svcauth/redis`) implements, passed as `stores` to
 * `authenticate()` and to `createServiceClient()` (each takes the members it uses). Without them
 * every replica keeps its own in-process state, as a single process needs. The verified-token
 * cache is never shared: it is the microsecond hot path.
 *
 * Contract for every implementation:
 * - Keys are given by svcauth already namespaced by purpose and never contain a token (a token is
 *   named by its SHA-256); values are strings, opaque to the store.
 * - A store that cannot answer (down, slow) does not hang: it answers within a short timeout,
 *   either from an in-process fallback (caches: `get` misses, `set` is kept locally) or by
 *   rejecting (only where the caller must fail closed; svcauth then answers 503).
 * - Expiry is in milliseconds from now; an entry may disappear earlier (eviction, a restart that
 *   lost data): every user of a store treats a miss as "ask the source again".
 */

import { fail } from './lib/checks.js'

/** A shared cache of strings with expiry. */
export interface SharedCache {
  /** The value under `key`, or undefined (absent, expired, or the store cannot answer). */
  get(key: string): Promise<string | undefined>
  /** Stores `value` under `key` for `ttlMs`, replacing what was there. */
  set(key: string, value: string, ttlMs: number): Promise<void>
  delete(key: string): Promise<void>
}

/** An atomic record of keys seen, e.g. DPoP proof `jti`s (see `DpopReplayStore`, which it is). */
export interface SharedSet {
  /**
   * Records `key` until `expiresAt` (epoch ms) unless it is already recorded: true when it was
   * added (first use), false when it was there (a replay). Rejects when the store cannot answer
   * and is configured to fail closed.
   */
  addIfAbsent(key: string, expiresAt: number): boolean | Promise<boolean>
}

/** A fleet-wide single-flight: at most one holder per key, until released or `ttlMs` passed. */
export interface SharedLock {
  /**
   * Takes `key` for `ttlMs`: resolves a function that releases it, or undefined when another
   * replica holds it (wait for its result instead). Resolves a release function too when the
   * store cannot answer (each replica then goes on alone).
   */
  acquire(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>
}

/** One revoked token: the issuer's `iss`, the token's `jti`, and when it expires anyway. */
export interface Revocation {
  readonly issuer: string
  readonly tokenId: string
  /** The token's `exp`: the entry is kept until then. */
  readonly expiresAt: Date | number
}

/**
 * A revocation list every replica sees: `isRevoked` answers from memory (it runs on every request,
 * cache hits included), kept current by the store (within a second in `@svcauth/redis`).
 */
export interface RevocationList {
  /** Whether the token `tokenId` of `issuer` was revoked and has not expired yet. */
  isRevoked(issuer: string, tokenId: string): boolean
  /** Revokes a token for every replica. */
  revoke(revocation: Revocation): Promise<void>
}

/**
 * The shared stores a fleet passes as `stores` (every member optional). Inbound: `introspection`
 * (introspection answers by token hash), `revocations`, `dpopReplay` (proof `jti`s). Outbound:
 * `tokens` (client-credentials tokens, encrypted by the store) and `lock` (one token request for
 * the whole fleet).
 *
 * @example
 * ```ts
 * import { redisStores } from '@svcauth/redis'
 * const stores = redisStores({ url: 'redis://redis:6379', encryptionKey: process.env.SVCAUTH_KEY })
 * app.use(authenticate({ issuer, audience: 'smd', introspection: {}, stores }))
 * const bss = createServiceClient({ issuer, clientId, clientSecret, targets, stores })
 * ```
 */
export interface SvcauthStores {
  readonly introspection?: SharedCache
  readonly revocations?: RevocationList
  readonly dpopReplay?: SharedSet
  readonly tokens?: SharedCache
  readonly lock?: SharedLock
}

const MEMBERS: Readonly<Record<keyof SvcauthStores, readonly string[]>> = Object.freeze({
  introspection: ['get', 'set', 'delete'],
  revocations: ['isRevoked', 'revoke'],
  dpopReplay: ['addIfAbsent'],
  tokens: ['get', 'set', 'delete'],
  lock: ['acquire'],
})

/** Validates `stores` once: each member given must have its methods. */
export function resolveStores(stores: unknown): SvcauthStores {
  if (stores === undefined) return Object.freeze({})
  if (typeof stores !== 'object' || stores === null) fail('stores must be an object')
  for (const [name, methods] of Object.entries(MEMBERS)) {
    const store = (stores as Record<string, unknown>)[name]
    if (store === undefined) continue
    const ok =
      typeof store === 'object' &&
      store !== null &&
      methods.every((m) => typeof (store as Record<string, unknown>)[m] === 'function')
    if (!ok) fail(`stores.${name} must have ${methods.map((m) => `${m}()`).join(', ')}`)
  }
  return stores
}
