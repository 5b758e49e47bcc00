/**
 * A SharedCache on Redis (`@svcauth/core` stores.ts): GET, SET … PX, DEL of `${prefix}${purpose}:
 * ${key}`, every value sealed with AES-256-GCM (encryption.ts). Used for introspection answers
 * (keyed by token hash) and outbound client-credentials tokens.
 *
 * It never throws: when Redis cannot answer within the timeout, the call uses an in-process
 * lru-cache instead (a `get` answers from it, a `set` is kept in it), logged once per window; the
 * next call tries Redis again. A value that does not open (another key, tampered, garbage) is a
 * miss, logged once per window: the caller asks its source again.
 */
import type { SharedCache } from '@svcauth/core'
import { LRUCache } from 'lru-cache'
import type { Commands } from './commands.js'
import type { Sealer } from './encryption.js'
import type { ThrottledLog } from './throttled-log.js'

export interface RedisCacheParts {
  readonly commands: Commands
  readonly sealer: Sealer
  readonly log: ThrottledLog
  /** `${prefix}${purpose}:`, e.g. `svcauth:introspection:`. */
  readonly namespace: string
  /** The store's name in log lines. */
  readonly purpose: string
  readonly fallbackMax: number
}

export class RedisCache implements SharedCache {
  readonly #parts: RedisCacheParts
  readonly #local: LRUCache<string, string>

  constructor(parts: RedisCacheParts) {
    this.#parts = parts
    this.#local = new LRUCache({ max: parts.fallbackMax, ttlAutopurge: false })
  }

  async get(key: string): Promise<string | undefined> {
    // Keys are already hashes or identifiers (stores.ts contract): used as given, not hashed again.
    const name = this.#parts.namespace + key
    let sealed: unknown
    try {
      sealed = await this.#parts.commands.send(['GET', name])
    } catch (err) {
      this.#parts.commands.unavailable(this.#parts.purpose, err)
      return this.#local.get(key)
    }
    if (typeof sealed !== 'string') return undefined
    const value = this.#parts.sealer.open(name, sealed)
    if (value === undefined) {
      this.#parts.log.log(
        'warn',
        { event: 'redis_value_invalid', store: this.#parts.purpose },
        'A value in Redis does not decrypt with the configured keys: treated as a miss',
      )
    }
    return value
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const ttl = Math.max(1, Math.ceil(ttlMs))
    const name = this.#parts.namespace + key
    try {
      await this.#parts.commands.send([
        'SET',
        name,
        this.#parts.sealer.seal(name, value),
        'PX',
        String(ttl),
      ])
    } catch (err) {
      this.#parts.commands.unavailable(this.#parts.purpose, err)
      this.#local.set(key, value, { ttl })
    }
  }

  async delete(key: string): Promise<void> {
    this.#local.delete(key)
    try {
      await this.#parts.commands.send(['DEL', this.#parts.namespace + key])
    } catch (err) {
      this.#parts.commands.unavailable(this.#parts.purpose, err)
    }
  }
}
