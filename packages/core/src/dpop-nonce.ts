/**
 * Server-provided DPoP nonces (RFC 9449 §8, §9) without state per client: a nonce is the number of
 * the current time window and an HMAC of it under a server secret, so any replica holding the
 * secret can check it and nothing is stored. A nonce is accepted during its own window and the
 * next one (between `lifetime` and twice that), which lets a client's nonce survive one rotation;
 * the resource server hands out the current one on a `use_dpop_nonce` answer and, once the
 * client's nonce is from the previous window, on its successful responses too (§9: a new nonce may
 * be sent on any response), so a busy client rotates without a failed request.
 *
 * Format: base64url of 8 bytes of window number (big-endian) and the first 16 bytes of
 * HMAC-SHA-256(secret, "svcauth-dpop-nonce" ‖ window), 32 characters of the NQCHAR set (§8.1).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

const LABEL = Buffer.from('svcauth-dpop-nonce')
const MAC_BYTES = 16
const NONCE_LENGTH = 32 // base64url of 8 + 16 bytes

/** Issues and checks rotating nonces. */
export class DpopNonces {
  readonly #secret: Buffer
  readonly #lifetimeMs: number
  /** The last two windows' nonces, computed once per window. */
  #window = -1
  #current = ''
  #previous = ''

  /** `secret` ≥ 32 bytes (random when omitted); `lifetime` in seconds. */
  constructor(secret: Uint8Array | undefined, lifetime: number) {
    this.#secret = secret === undefined ? randomBytes(32) : Buffer.from(secret)
    this.#lifetimeMs = lifetime * 1000
  }

  /** The nonce to hand out now. */
  current(now: number = Date.now()): string {
    this.#advance(now)
    return this.#current
  }

  /** True when `value` is this window's nonce or the previous window's. */
  accepts(value: string, now: number = Date.now()): boolean {
    if (value.length !== NONCE_LENGTH) return false
    this.#advance(now)
    return same(value, this.#current) || same(value, this.#previous)
  }

  /** True when `value` is accepted but no longer current: the client should get the new one. */
  stale(value: string, now: number = Date.now()): boolean {
    this.#advance(now)
    return value !== this.#current
  }

  #advance(now: number): void {
    const window = Math.floor(now / this.#lifetimeMs)
    if (window === this.#window) return
    this.#previous = window === this.#window + 1 ? this.#current : this.#make(window - 1)
    this.#current = this.#make(window)
    this.#window = window
  }

  #make(window: number): string {
    const counter = Buffer.alloc(8)
    counter.writeBigUInt64BE(BigInt(Math.max(0, window)))
    const mac = createHmac('sha256', this.#secret).update(LABEL).update(counter).digest()
    return Buffer.concat([counter, mac.subarray(0, MAC_BYTES)]).toString('base64url')
  }
}

/** Constant-time comparison of two ASCII strings of equal length. */
function same(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))
}
