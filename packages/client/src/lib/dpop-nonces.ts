/**
 * The latest DPoP nonce each server gave (RFC 9449 §8 for authorization servers, §9 for resource
 * servers), per origin: a server may send `DPoP-Nonce` on any answer, a refusal or a success
 * (§8.2), and the next proof for that origin carries the latest one. Only values with the §8.1
 * syntax (`1*NQCHAR`, at most 1,024 characters) are kept, so a nonce is always safe to put in a
 * proof. Bounded: at most `max` origins (100, as openid-client), the least recently updated going
 * first. A client calls few origins; the bound keeps a misbehaving caller from growing it.
 */

/** RFC 9449 §8.1: `NQCHAR = %x21 / %x23-5B / %x5D-7E` (printable ASCII without `"` and `\`). */
const NONCE = /^[\x21\x23-\x5b\x5d-\x7e]{1,1024}$/

export class DpopNonces {
  readonly #max: number
  readonly #nonces = new Map<string, string>()

  constructor(max = 100) {
    this.#max = max
  }

  /** The latest nonce `origin` gave, if any. */
  get(origin: string): string | undefined {
    return this.#nonces.get(origin)
  }

  /**
   * Records the `DPoP-Nonce` header value an answer from `origin` carried; returns the nonce when
   * it was one (several header fields: none is trusted), else undefined.
   */
  update(origin: string, header: string | string[] | undefined): string | undefined {
    if (typeof header !== 'string' || !NONCE.test(header)) return undefined
    if (this.#nonces.get(origin) === header) return header
    this.#nonces.delete(origin)
    if (this.#nonces.size >= this.#max) {
      const oldest = this.#nonces.keys().next()
      if (oldest.done !== true) this.#nonces.delete(oldest.value)
    }
    this.#nonces.set(origin, header)
    return header
  }
}
