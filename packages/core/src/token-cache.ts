/**
 * Verified-token cache: service tokens are reused for their whole lifetime across thousands of
 * calls, so the signature check is not repeated. Keyed by the exact token string (a malleated
 * token is a different key and is verified afresh; revocation keys on `iss` + `jti`, never on the
 * string: catalogue B8). Bounded by entries and bytes; TTL = min(time to `exp`, `maxTtl`); time
 * claims are re-checked on every hit. An entry is tied to the key that verified it (its RFC 7638
 * thumbprint and use restrictions, not just its `kid`): once the issuer's key set changes, it is
 * dropped unless the same key is still published under that `kid` (issue 14, R6).
 *
 * In front of the LRU sits a handful of exact `Authorization` header values recently answered
 * from it (issue 17): a service sends the same header on every call, and comparing it with a few
 * known strings is cheaper than hashing a ~800-character token for the LRU and re-parsing its
 * header. A recent header stands for the entry it was answered with, checked exactly as an LRU hit
 * is (expiry, deadline, key set), and the byte-for-byte same header parses to the same token.
 */
import { LRUCache } from 'lru-cache'
import type { AuthErrorReason } from './errors.js'
import type { Principal } from './principal.js'

export interface CacheSource {
  readonly version: number
  /** False once the issuer's keys are past their hard staleness limit. */
  readonly usable: boolean
  /** The identity of the key published under `kid` now (see `lib/key-identity.ts`). */
  identityOf(kid: string): string | null | undefined
}

export interface CacheEntryMeta {
  readonly kid: string | undefined
  /** The identity of the key that verified the token; undefined when unknown (no `kid`). */
  readonly keyIdentity: string | undefined
  readonly source: CacheSource
  readonly version: number
  readonly nbf: number | undefined
  readonly iat: number | undefined
  readonly tolerance: number
  readonly maxTokenAge: number | undefined
}

/** Approximate bytes of a cached principal beyond its token string. */
const ENTRY_OVERHEAD = 2048

/** Recent header values kept in front of the LRU: a few callers' services, compared in turn. */
const RECENT = 8

interface Entry extends Omit<CacheEntryMeta, 'version'> {
  /** The key-set version last seen to publish this key; moves forward on a hit after a rotation. */
  version: number
  readonly principal: Principal
  readonly exp: number
  /** Epoch ms after which the entry is dropped: min(`exp` + tolerance, stored + `maxTtl`). */
  readonly deadline: number
}

/** One recent header value, the token it carries and the entry it was answered with. */
interface Recent {
  readonly header: string
  readonly token: string
  readonly entry: Entry
}

export class TokenCache {
  readonly #lru: LRUCache<string, Entry>
  readonly #maxTtl: number
  readonly #recent: (Recent | undefined)[] = new Array<Recent | undefined>(RECENT).fill(undefined)
  #nextRecent = 0

  constructor(options: {
    readonly max: number
    readonly maxTtl: number
    readonly maxBytes: number
  }) {
    this.#lru = new LRUCache<string, Entry>({
      max: options.max,
      maxSize: options.maxBytes,
      // The token string (UTF-16 in memory) plus a flat allowance for the principal and claims.
      sizeCalculation: (_entry, token) => token.length * 2 + ENTRY_OVERHEAD,
    })
    this.#maxTtl = options.maxTtl
  }

  /**
   * The cached principal; the reason to refuse a cached token that has since expired (or is not
   * valid yet, or too old), made into an error by the caller in its realm; or undefined.
   */
  get(token: string, now: number): Principal | AuthErrorReason | undefined {
    const entry = this.#lru.get(token)
    if (entry === undefined) return undefined
    return this.#check(token, entry, now)
  }

  /**
   * {@link get} by a whole `Authorization` header value seen before (see {@link remember}):
   * undefined when it is not one of the recent ones, or its entry is no longer good.
   */
  getRecent(header: string, now: number): Principal | undefined {
    const recent = this.#recent
    for (let i = 0; i < RECENT; i++) {
      const slot = recent[i]
      if (slot === undefined || slot.header !== header) continue
      const result = this.#check(slot.token, slot.entry, now)
      if (typeof result === 'object') return result
      // Expired, too old, re-keyed or evicted: the LRU (or a verification) decides from now on.
      recent[i] = undefined
      return undefined
    }
    return undefined
  }

  /** Remembers `header`, which carries `token`, a live LRU entry, for {@link getRecent}. */
  remember(header: string, token: string): void {
    const entry = this.#lru.peek(token)
    if (entry === undefined) return
    this.#recent[this.#nextRecent] = { header, token, entry }
    this.#nextRecent = (this.#nextRecent + 1) % RECENT
  }

  #check(token: string, entry: Entry, now: number): Principal | AuthErrorReason | undefined {
    if (entry.exp <= now - entry.tolerance) {
      this.#lru.delete(token)
      return 'expired'
    }
    // Our own deadline rather than lru-cache's TTL: no per-entry timers or clock reads in the LRU.
    if (entry.deadline <= now * 1000) {
      this.#lru.delete(token)
      return undefined
    }
    if (entry.nbf !== undefined && entry.nbf > now + entry.tolerance) {
      return 'not_yet_valid'
    }
    if (
      entry.maxTokenAge !== undefined &&
      entry.iat !== undefined &&
      now - entry.iat - entry.tolerance > entry.maxTokenAge
    ) {
      this.#lru.delete(token)
      return 'token_too_old'
    }
    // Keys past the hard limit serve nobody, cached tokens included: verify afresh (503 or refresh).
    if (!entry.source.usable) return undefined
    if (entry.version !== entry.source.version) {
      // The key set changed: keep the entry only if the same key is still published under its kid.
      if (
        entry.kid === undefined ||
        entry.keyIdentity === undefined ||
        entry.source.identityOf(entry.kid) !== entry.keyIdentity
      ) {
        this.#lru.delete(token)
        return undefined
      }
      entry.version = entry.source.version
    }
    return entry.principal
  }

  set(token: string, principal: Principal, meta: CacheEntryMeta): void {
    const exp = principal.expiresAt.getTime() / 1000
    const nowMs = Date.now()
    const ttlSeconds = Math.min(exp + meta.tolerance - nowMs / 1000, this.#maxTtl)
    if (ttlSeconds <= 0) return
    // Explicit fields, not a spread: one object shape for every entry.
    const entry: Entry = {
      kid: meta.kid,
      keyIdentity: meta.keyIdentity,
      source: meta.source,
      version: meta.version,
      nbf: meta.nbf,
      iat: meta.iat,
      tolerance: meta.tolerance,
      maxTokenAge: meta.maxTokenAge,
      principal,
      exp,
      deadline: nowMs + ttlSeconds * 1000,
    }
    this.#lru.set(token, entry)
  }

  clear(): void {
    this.#lru.clear()
    this.#recent.fill(undefined)
  }
}
