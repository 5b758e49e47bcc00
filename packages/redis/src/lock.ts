/**
 * A fleet-wide single-flight (one token request for the whole fleet on a cold start): `SET name
 * token NX PX ttl` takes the lock with a random token; release deletes it only if it still holds
 * that token (compare-and-delete in one Lua script, as the Redis docs' SET page describes for
 * locks), so a holder whose lock expired cannot release the next holder's.
 *
 * Redis unavailable: `acquire` resolves a release function that does nothing; each replica then
 * goes on alone (more token requests, none refused), logged once per window.
 */
import type { SharedLock } from '@svcauth/core'
import { randomBytes } from 'node:crypto'
import type { Commands } from './commands.js'

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`

const alone = async (): Promise<void> => {
  // Nothing was taken in Redis, so nothing is released.
}

export class RedisLock implements SharedLock {
  readonly #commands: Commands
  readonly #namespace: string

  constructor(commands: Commands, namespace: string) {
    this.#commands = commands
    this.#namespace = namespace
  }

  async acquire(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const name = this.#namespace + key
    const token = randomBytes(16).toString('base64url')
    let reply: unknown
    try {
      reply = await this.#commands.send([
        'SET',
        name,
        token,
        'NX',
        'PX',
        String(Math.max(1, Math.ceil(ttlMs))),
      ])
    } catch (err) {
      this.#commands.unavailable('lock', err)
      return alone
    }
    if (reply === null) return undefined
    let released = false
    return async () => {
      if (released) return
      released = true
      try {
        await this.#commands.send(['EVAL', RELEASE, '1', name, token])
      } catch (err) {
        // The lock expires by itself at ttlMs.
        this.#commands.unavailable('lock', err)
      }
    }
  }
}
