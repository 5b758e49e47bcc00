/**
 * The JOSE protected header (RFC 7515 §4.1), checked in the order jose checks it, with svcauth's
 * own policy where jose ran it in the key resolver: no `crit` extension is understood (RFC 7515
 * §4.1.11; that includes `b64`, RFC 7797 §6, which a JWT must not use anyway), `alg` a non-empty
 * string on the issuer's allow-list (RFC 8725 §3.1), then the `typ` policy (RFC 9068 §4, RFC 8725
 * §3.11). `jwk`, `jku`, `x5u` and `x5c` are never read: keys come only from the issuer's JWKS.
 *
 * One issuer's tokens share a handful of headers, so the outcome for a header segment, with the
 * key it selected in one key set, is remembered (bounded) and the next token skips both steps.
 */
import type { Reject } from '../errors.js'
import type { JwsAlgorithm } from './jws-algorithms.js'
import type { Keys } from './key-set.js'
import type { KeyInput } from './verify-keys.js'

/** What the rest of verification needs from an accepted header. */
export interface CheckedHeader {
  readonly alg: JwsAlgorithm
  /** As published in the header: selection compares it, only a string names a key. */
  readonly kid: unknown
}

export interface HeaderPolicy {
  /** The issuer's allow-list, alg name → binding. */
  readonly algorithms: ReadonlyMap<string, JwsAlgorithm>
  readonly strict: boolean
}

/** Checks a parsed header; throws `reject(reason)` at the first refusal. */
export function checkHeader(
  header: Readonly<Record<string, unknown>>,
  policy: HeaderPolicy,
  reject: Reject,
): CheckedHeader {
  if (header.crit !== undefined) throw reject('crit_unsupported')
  const { alg } = header
  if (typeof alg !== 'string' || alg === '') throw reject('malformed_jws')
  const entry = policy.algorithms.get(alg)
  if (entry === undefined) throw reject('alg_not_allowed')
  if (!typAllowed(header.typ, policy.strict)) throw reject('typ_invalid')
  return { alg: entry, kid: header.kid }
}

/**
 * `typ` policy (RFC 9068 §4, RFC 8725 §3.11): by default `at+jwt`, `application/at+jwt`, `JWT`
 * (Hydra) or none; strict mode requires `at+jwt`. Media types compare case-insensitively.
 */
export function typAllowed(typ: unknown, strict: boolean): boolean {
  if (typ === undefined) return !strict
  if (typeof typ !== 'string') return false
  const t = typ.toLowerCase().replace(/^application\//, '')
  return t === 'at+jwt' || (!strict && t === 'jwt')
}

/** A header that verified a token, with the key it selected in one key set. */
export interface KnownHeader extends CheckedHeader {
  /** The key set the key came from: the entry holds only while that set is installed. */
  readonly keys: Keys
  readonly input: KeyInput
  /**
   * The kid the verified-token cache ties an entry to: the header's (a string), or the key's own
   * for keys that match any kid (PEM, issue 20); undefined when there is none.
   */
  readonly keyId: string | undefined
  /** The identity of that key (issue 14, R6), for the verified-token cache. */
  readonly identity: string | undefined
}

/** Distinct headers remembered per issuer; a rotation or a few `typ` spellings stay well under. */
const MAX_HEADERS = 32

/**
 * Header segment → its outcome. Filled only after a signature verified, so unsigned junk cannot
 * evict an issuer's real headers; cleared when full, which costs one parse per header.
 */
export class HeaderMemo {
  readonly #known = new Map<string, KnownHeader>()

  /** The remembered outcome, when it was found in `keys` (the set installed now). */
  get(segment: string, keys: Keys): KnownHeader | undefined {
    const known = this.#known.get(segment)
    return known?.keys === keys ? known : undefined
  }

  set(segment: string, known: KnownHeader): void {
    if (this.#known.size >= MAX_HEADERS && !this.#known.has(segment)) this.#known.clear()
    this.#known.set(segment, known)
  }
}
