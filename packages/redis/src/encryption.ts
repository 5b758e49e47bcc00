/**
 * Encryption of every value svcauth stores in Redis (issue 21): AES-256-GCM (NIST SP 800-38D)
 * with a random 96-bit IV per value (§8.2.2: a random IV is safe for up to 2^32 values per key)
 * and the full 128-bit tag. The Redis key name is the additional authenticated data, so a value
 * copied under another key (one token's introspection answer under another token's hash) fails
 * to open instead of being served.
 *
 * Format, base64 of: key id (1 byte) ‖ IV (12) ‖ tag (16) ‖ ciphertext. The key id is the first
 * byte of SHA-256(key), so that keys can be rotated: the first key given seals, every key given
 * opens, and a value sealed under a key no longer configured is a miss.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'

const IV_BYTES = 12
const TAG_BYTES = 16
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES

interface Key {
  readonly id: number
  readonly secret: Buffer
}

/** Seals and opens values under one or more 32-byte keys. */
export class Sealer {
  readonly #keys: readonly Key[]

  /** `keys`: 32-byte keys, the sealing one first (checked by the caller). */
  constructor(keys: readonly Buffer[]) {
    this.#keys = keys.map((secret) => ({
      id: createHash('sha256').update(secret).digest()[0] ?? 0,
      secret,
    }))
  }

  /** The sealed form of `plaintext`, bound to the Redis key `name`. */
  seal(name: string, plaintext: string): string {
    const key = this.#keys[0]
    if (key === undefined) throw new Error('svcauth: no encryption key')
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', key.secret, iv)
    cipher.setAAD(Buffer.from(name))
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return Buffer.concat([Buffer.of(key.id), iv, cipher.getAuthTag(), body]).toString('base64')
  }

  /** The plaintext of `sealed` under `name`, or undefined when no key opens it (or it is garbage). */
  open(name: string, sealed: string): string | undefined {
    const raw = Buffer.from(sealed, 'base64')
    if (raw.length < HEADER_BYTES) return undefined
    const iv = raw.subarray(1, 1 + IV_BYTES)
    const tag = raw.subarray(1 + IV_BYTES, HEADER_BYTES)
    const body = raw.subarray(HEADER_BYTES)
    for (const key of this.#keys) {
      if (key.id !== raw[0]) continue
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.secret, iv)
        decipher.setAAD(Buffer.from(name))
        decipher.setAuthTag(tag)
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')
      } catch {
        // Another key may share the id byte (1 in 256): try it before calling the value a miss.
      }
    }
    return undefined
  }
}
