/**
 * A revocation list every replica sees (issue 21): `revoke()` writes `${prefix}revoked:<sha256(iss
 * ‖ 0x00 ‖ jti)>` (its value sealed: issuer, jti, expiry) with PXAT at the token's expiry and
 * PUBLISHes the same on `${prefix}revoked`. Every instance keeps a mirror in memory (issuer + jti →
 * expiry), so `isRevoked`, run on every request, is a synchronous map lookup. The mirror is:
 * - filled by a full read (SCAN of the key names, MGET of the values) on start;
 * - updated from the channel (a subscriber connection), so a revocation on one replica is seen by
 *   the others as soon as the message arrives (well within a second);
 * - read again in full every `reconcileInterval` and right after every reconnect, so a message
 *   missed while a connection was down is healed; a failed read is retried every second.
 *
 * Entries leave the mirror only when their token expires (a revocation is never lifted) or when
 * the mirror is full (`maxRevocations`: the oldest go, logged). A full read that misses an entry
 * the mirror holds (Redis restarted with its data lost, or a revocation made while Redis was down)
 * writes it back and publishes it, so replicas started later see it too.
 */
import type { Revocation, RevocationList } from '@svcauth/core'
import { createHash } from 'node:crypto'
import { BREAK_MS, type Commands } from './commands.js'
import type { Sealer } from './encryption.js'
import type { ThrottledLog } from './throttled-log.js'

export interface RevocationParts {
  readonly commands: Commands
  readonly sealer: Sealer
  readonly log: ThrottledLog
  /** `${prefix}revoked`: the channel; key names add `:` and the hash. */
  readonly channel: string
  readonly max: number
}

/** Numbers below this are taken as seconds (a JWT `exp`), above as milliseconds. */
const MS_THRESHOLD = 1e12
const SCAN_COUNT = '1000'

/** Epoch ms of a revocation's `expiresAt` (a Date, epoch ms, or a JWT `exp` in seconds). */
export function expiryMs(expiresAt: Date | number): number {
  const value = expiresAt instanceof Date ? expiresAt.getTime() : expiresAt
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError('svcauth: revoke expiresAt must be a Date or a positive number')
  }
  return value < MS_THRESHOLD ? value * 1000 : value
}

interface Entry {
  readonly issuer: string
  readonly tokenId: string
  readonly expiresAt: number
}

export class RedisRevocationList implements RevocationList {
  readonly #parts: RevocationParts
  /** issuer ‖ 0x00 ‖ jti → expiry (epoch ms); Map order is insertion order (oldest first). */
  readonly #mirror = new Map<string, number>()
  #reading: Promise<boolean> | undefined
  #retry: NodeJS.Timeout | undefined
  #loaded = false
  #closed = false

  constructor(parts: RevocationParts) {
    this.#parts = parts
  }

  /** Whether a full read has succeeded once. */
  get loaded(): boolean {
    return this.#loaded
  }

  /** How many revocations the mirror holds. */
  get size(): number {
    return this.#mirror.size
  }

  isRevoked(issuer: string, tokenId: string): boolean {
    if (this.#mirror.size === 0) return false
    const key = `${issuer}\0${tokenId}`
    const expiresAt = this.#mirror.get(key)
    if (expiresAt === undefined) return false
    if (expiresAt > Date.now()) return true
    this.#mirror.delete(key)
    return false
  }

  async revoke(revocation: Revocation): Promise<void> {
    const { issuer, tokenId } = revocation
    if (
      typeof issuer !== 'string' ||
      issuer === '' ||
      typeof tokenId !== 'string' ||
      tokenId === ''
    ) {
      throw new TypeError('svcauth: revoke needs a non-empty issuer and tokenId')
    }
    const entry = { issuer, tokenId, expiresAt: expiryMs(revocation.expiresAt) }
    // An expired token is refused anyway: nothing to keep.
    if (entry.expiresAt <= Date.now()) return
    // Here first: this replica refuses the token even if Redis cannot be told now.
    this.#remember(entry)
    try {
      await this.#write(entry)
    } catch (err) {
      this.#parts.commands.unavailable('revocations', err, 'error')
      // The next full read after Redis answers again writes it (see #read).
      this.#scheduleRetry()
      throw new Error(
        'svcauth: the revocation is in force on this instance only: Redis did not answer; it is written when Redis answers again',
        { cause: err },
      )
    }
  }

  /** The message of the channel (from the subscriber). */
  receive(message: string): void {
    const space = message.indexOf(' ')
    if (space < 0) return
    const entry = this.#open(message.slice(0, space), message.slice(space + 1))
    if (entry !== undefined) this.#remember(entry)
  }

  /**
   * Reads the whole list from Redis into the mirror and writes back what Redis lacks; resolves
   * whether it succeeded. Concurrent calls share one read. `force` reads even while commands are
   * skipped after a failure (start-up, a reconnect).
   */
  async refresh(force = false): Promise<boolean> {
    this.#reading ??= this.#read(force).finally(() => {
      this.#reading = undefined
    })
    return this.#reading
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#retry)
  }

  async #read(force: boolean): Promise<boolean> {
    const found = new Set<string>()
    try {
      let cursor = '0'
      do {
        const reply = await this.#parts.commands.send(
          ['SCAN', cursor, 'MATCH', `${this.#parts.channel}:*`, 'COUNT', SCAN_COUNT],
          force,
        )
        const [next, names] = reply as [unknown, string[]]
        cursor = String(next)
        if (names.length === 0) continue
        const values = (await this.#parts.commands.send(['MGET', ...names], force)) as unknown[]
        names.forEach((name, i) => {
          const sealed = values[i]
          if (typeof sealed !== 'string') return
          const entry = this.#open(name.slice(this.#parts.channel.length + 1), sealed)
          if (entry === undefined) return
          found.add(`${entry.issuer}\0${entry.tokenId}`)
          this.#remember(entry)
        })
      } while (cursor !== '0')
      const now = Date.now()
      for (const [key, expiresAt] of this.#mirror) {
        if (found.has(key) || expiresAt <= now) continue
        const split = key.indexOf('\0')
        await this.#write({ issuer: key.slice(0, split), tokenId: key.slice(split + 1), expiresAt })
      }
    } catch (err) {
      this.#parts.commands.unavailable('revocations', err)
      this.#scheduleRetry()
      return false
    }
    this.#loaded = true
    return true
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retry !== undefined) return
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      void this.refresh()
    }, BREAK_MS + 50)
    this.#retry.unref()
  }

  async #write(entry: Entry): Promise<void> {
    const hash = hashOf(entry.issuer, entry.tokenId)
    const name = `${this.#parts.channel}:${hash}`
    const value = JSON.stringify({ iss: entry.issuer, jti: entry.tokenId, exp: entry.expiresAt })
    const sealed = this.#parts.sealer.seal(name, value)
    await this.#parts.commands.send([
      'SET',
      name,
      sealed,
      'PXAT',
      String(Math.ceil(entry.expiresAt)),
    ])
    await this.#parts.commands.send(['PUBLISH', this.#parts.channel, `${hash} ${sealed}`])
  }

  /** The entry sealed under the key of `hash`, or undefined (logged) when it does not open. */
  #open(hash: string, sealed: string): Entry | undefined {
    const text = this.#parts.sealer.open(`${this.#parts.channel}:${hash}`, sealed)
    let entry: Entry | undefined
    try {
      const parsed = text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>)
      if (
        typeof parsed?.iss === 'string' &&
        typeof parsed.jti === 'string' &&
        typeof parsed.exp === 'number' &&
        hashOf(parsed.iss, parsed.jti) === hash
      ) {
        entry = { issuer: parsed.iss, tokenId: parsed.jti, expiresAt: parsed.exp }
      }
    } catch {
      // Not JSON: handled as a value that does not open.
    }
    if (entry === undefined) {
      this.#parts.log.log(
        'warn',
        { event: 'redis_value_invalid', store: 'revocations' },
        'A revocation in Redis does not decrypt with the configured keys: ignored',
      )
    }
    return entry
  }

  #remember(entry: Entry): void {
    const key = `${entry.issuer}\0${entry.tokenId}`
    const now = Date.now()
    if (entry.expiresAt <= now) return
    if (!this.#mirror.has(key) && this.#mirror.size >= this.#parts.max) this.#evict(now)
    this.#mirror.set(key, entry.expiresAt)
  }

  #evict(now: number): void {
    for (const [key, expiresAt] of this.#mirror) if (expiresAt <= now) this.#mirror.delete(key)
    if (this.#mirror.size < this.#parts.max) return
    // Still full of live revocations: the oldest goes, and an operator must hear of it.
    const oldest = this.#mirror.keys().next()
    if (oldest.done !== true) this.#mirror.delete(oldest.value)
    this.#parts.log.log(
      'error',
      { event: 'redis_revocations_full', store: 'revocations', max: this.#parts.max },
      'The revocation mirror is full (maxRevocations): the oldest revocations are dropped',
    )
  }
}

/** The hash naming a revocation's key: never the `jti` itself in a key name. */
function hashOf(issuer: string, tokenId: string): string {
  return createHash('sha256').update(`${issuer}\0${tokenId}`).digest('hex')
}
