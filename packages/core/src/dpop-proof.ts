/**
 * DPoP proofs (RFC 9449), the resource server's side: one `DPoP` header value checked as §4.3
 * requires, against the request it came with and the access token it is presented with. The
 * proof is a compact JWS (canonical base64url, as every token svcauth reads) whose header carries
 * `typ: dpop+jwt`, an asymmetric allow-listed `alg` and the caller's public key as `jwk` (never a
 * private one); its claims carry `jti`, `htm` (the method), `htu` (the request URI without query
 * and fragment), `iat` (within `maxAge` and the clock tolerance), `ath` (SHA-256 of the access
 * token, §4.2) and, when the server asks for one, `nonce` (§8). The signature is checked with the
 * proof's own key on `node:crypto`, bound to its algorithm as for access tokens
 * (`lib/jws-algorithms.ts`), and the `jti` is recorded in a replay store, atomically, until the
 * proof could no longer be accepted (§11.1). What comes back is the RFC 7638 thumbprint of the
 * proof key, which the caller compares with the token's `cnf.jkt` (§6).
 *
 * Every refusal is a {@link DpopProofError}: `invalid_dpop_proof`, or `use_dpop_nonce` when only
 * the server's nonce is missing or stale (§7.1, §8), with a precise `reason`, never the proof.
 */
import { createHash } from 'node:crypto'
import { calculateJwkThumbprint } from 'jose'
import type { Algorithm } from './issuer-options.js'
import { isCanonicalCompactJws } from './lib/canonical.js'
import { algorithmTable, MIN_RSA_BITS } from './lib/jws-algorithms.js'
import { decodeJsonObject, signatureValid, splitCompact } from './lib/jws.js'
import { importVerifyKeys, keyFits, type VerifyKey } from './lib/verify-keys.js'

/** Why a proof was refused: `code` is what goes in the `WWW-Authenticate: DPoP error=…`. */
export type DpopProofErrorCode = 'invalid_dpop_proof' | 'use_dpop_nonce'

export type DpopProofReason =
  | 'proof_missing'
  | 'proof_repeated'
  | 'proof_too_large'
  | 'proof_malformed'
  | 'typ_invalid'
  | 'alg_not_allowed'
  | 'jwk_invalid'
  | 'jwk_private'
  | 'signature_invalid'
  | 'claim_missing'
  | 'htm_mismatch'
  | 'htu_mismatch'
  | 'iat_stale'
  | 'iat_future'
  | 'ath_mismatch'
  | 'nonce_missing'
  | 'nonce_invalid'
  | 'jkt_mismatch'
  | 'replayed'
  | 'replay_store_failed'

/**
 * A refused DPoP proof. Carries `code` (the RFC 9449 §7.1 error) and `reason`; the message never
 * contains the proof or the token.
 *
 * @example
 * ```ts
 * try { await verifyDpopProof(check, policy) } catch (err) {
 *   if (err instanceof DpopProofError) res.status(401).set('WWW-Authenticate', `DPoP error="${err.code}"`)
 * }
 * ```
 */
export class DpopProofError extends Error {
  readonly code: DpopProofErrorCode
  readonly reason: DpopProofReason

  constructor(reason: DpopProofReason, options?: { cause?: unknown }) {
    super(`DPoP proof refused: ${reason}`, options)
    this.name = 'DpopProofError'
    this.reason = reason
    this.code =
      reason === 'nonce_missing' || reason === 'nonce_invalid'
        ? 'use_dpop_nonce'
        : 'invalid_dpop_proof'
  }
}

/**
 * Where the `jti`s of accepted proofs are kept until they expire, so a proof is accepted once
 * (RFC 9449 §11.1). One atomic operation: a store shared by replicas (e.g. Redis `SET NX PX`)
 * implements it the same way.
 */
export interface DpopReplayStore {
  /**
   * Records `key` until `expiresAt` (epoch ms) unless it is already recorded. Resolves true when it
   * was added (first use), false when it was already there (a replay).
   */
  addIfAbsent(key: string, expiresAt: number): boolean | Promise<boolean>
}

/**
 * The in-process replay store: a bounded map of `jti` → expiry. When full, expired entries are
 * dropped first; if that frees less than a tenth, the oldest go down to 90% of `max` (one sweep
 * per `max / 10` insertions, not one per insertion). Size `max` for the proof rate × the window
 * (`maxAge` + tolerance).
 *
 * @example
 * ```ts
 * const replay = new MemoryReplayStore({ max: 100_000 })
 * ```
 */
export class MemoryReplayStore implements DpopReplayStore {
  readonly #max: number
  readonly #seen = new Map<string, number>()

  constructor(options: { max?: number } = {}) {
    const max = options.max ?? 100_000
    if (!Number.isInteger(max) || max < 1) {
      throw new TypeError('svcauth: MemoryReplayStore max must be a positive integer')
    }
    this.#max = max
  }

  /** How many `jti`s are held now. */
  get size(): number {
    return this.#seen.size
  }

  addIfAbsent(key: string, expiresAt: number, now = Date.now()): boolean {
    const held = this.#seen.get(key)
    if (held !== undefined && held > now) return false
    if (held !== undefined) this.#seen.delete(key)
    if (this.#seen.size >= this.#max) this.#evict(now)
    this.#seen.set(key, expiresAt)
    return true
  }

  #evict(now: number): void {
    for (const [key, expiresAt] of this.#seen) if (expiresAt <= now) this.#seen.delete(key)
    // Still (nearly) full of live entries: the oldest go, down to 90% of `max`, so that the next
    // sweep is a tenth of `max` insertions away and an insertion stays O(1) amortised. Proofs are
    // recorded only once their token and key binding have been checked, so filling the store takes
    // valid tokens, not just any key.
    const keep = Math.floor(this.#max * 0.9)
    for (const key of this.#seen.keys()) {
      if (this.#seen.size <= keep) break
      this.#seen.delete(key)
    }
  }
}

/** The request a proof must match. */
export interface DpopRequest {
  /** The whole `DPoP` header value (the caller has checked there is exactly one). */
  readonly proof: string
  /** The HTTP method, as received (case-sensitive, RFC 9110 §9.1). */
  readonly method: string
  /** The request's absolute URI as the client addressed it (scheme, host, path; query ignored). */
  readonly url: string
  /** The access token the proof is presented with (its `ath` must match), if any. */
  readonly accessToken?: string | undefined
  /**
   * The thumbprint the proof key must have (the token's `cnf.jkt`), checked before the `jti` is
   * recorded, so proofs for other keys never fill the replay store.
   */
  readonly jkt?: string | undefined
  /** The nonce the server expects in this proof, when it requires one. */
  readonly nonce?: ((value: string) => boolean) | undefined
}

/** How proofs are judged. */
export interface DpopProofPolicy {
  /** Allowed proof algorithms (asymmetric only). */
  readonly algorithms: readonly Algorithm[]
  /** Seconds a proof stays acceptable after its `iat`. */
  readonly maxAge: number
  /** Seconds of clock skew allowed either way. */
  readonly clockTolerance: number
  readonly replay: DpopReplayStore
  /** Proofs longer than this many characters are refused unread. @default 8192 */
  readonly maxBytes?: number
}

/** An accepted proof. */
export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key (base64url): compare with `cnf.jkt`. */
  readonly jkt: string
  readonly jti: string
  readonly iat: number
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv']
const MAX_JTI = 256
/**
 * RSA proof keys above this size are refused: verification cost grows with the square of the
 * modulus, and a proof's key is the caller's choice (a 16,384-bit key fits in an 8 KiB proof).
 */
const MAX_PROOF_RSA_BITS = 4096

/** A proof header already checked and imported: its key, ready for `crypto.verify`, and thumbprint. */
interface KnownProofKey {
  readonly key: VerifyKey
  readonly jkt: string
}

/**
 * Proof headers seen lately, by their exact base64url segment: a client sends the same header
 * (alg, typ, jwk) with every proof, so its key is imported and thumbprinted once. Bounded; emptied
 * when full. The segment is the signed bytes, so a hit stands for the identical header.
 */
const known = new Map<string, KnownProofKey>()
const KNOWN_MAX = 1024

/**
 * Checks one DPoP proof (RFC 9449 §4.3) and records its `jti`; resolves the proof key's thumbprint
 * or rejects with a {@link DpopProofError}.
 *
 * @example
 * ```ts
 * const { jkt } = await verifyDpopProof(
 *   { proof: req.headers.dpop, method: req.method, url: 'https://smd.example/hsm/v2/State/Components', accessToken },
 *   { algorithms: ['ES256', 'EdDSA'], maxAge: 300, clockTolerance: 5, replay: new MemoryReplayStore() },
 * )
 * if (jkt !== principal.claims.cnf?.jkt) throw new Error('not the key this token is bound to')
 * ```
 */
export async function verifyDpopProof(
  request: DpopRequest,
  policy: DpopProofPolicy,
  now: number = Date.now(),
): Promise<VerifiedDpopProof> {
  const { proof } = request
  if (proof.length > (policy.maxBytes ?? 8192)) throw new DpopProofError('proof_too_large')
  const segments = isCanonicalCompactJws(proof) ? splitCompact(proof) : undefined
  if (segments === undefined) throw new DpopProofError('proof_malformed')
  const header = decodeJsonObject(proof, 0, segments.header)
  const claims = decodeJsonObject(proof, segments.header + 1, segments.payload)
  if (header === undefined || claims === undefined) throw new DpopProofError('proof_malformed')

  // Header (§4.2, §4.3 steps 4–7).
  if (!typIsDpop(header.typ)) throw new DpopProofError('typ_invalid')
  if (header.crit !== undefined) throw new DpopProofError('proof_malformed')
  const alg =
    typeof header.alg === 'string' ? allowed(policy.algorithms).get(header.alg) : undefined
  if (alg === undefined) throw new DpopProofError('alg_not_allowed')
  const jwk = header.jwk
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new DpopProofError('jwk_invalid')
  }
  if (PRIVATE_MEMBERS.some((m) => Object.prototype.hasOwnProperty.call(jwk, m))) {
    throw new DpopProofError('jwk_private')
  }
  const segment = proof.slice(0, segments.header)
  let proofKey = known.get(segment)
  if (proofKey === undefined) {
    const [key] = await importVerifyKeys([jwk])
    if (key === undefined || key.failure !== undefined) {
      throw new DpopProofError('jwk_invalid', { cause: key?.failure })
    }
    proofKey = { key, jkt: await calculateJwkThumbprint(jwk, 'sha256') }
    if (known.size >= KNOWN_MAX) known.clear()
    known.set(segment, proofKey)
  }
  const { key, jkt } = proofKey
  const input = keyFits(key, alg) ? key.inputs.get(alg.name) : undefined
  if (
    input === undefined ||
    (alg.kty === 'RSA' && (key.rsaBits < MIN_RSA_BITS || key.rsaBits > MAX_PROOF_RSA_BITS))
  ) {
    throw new DpopProofError('jwk_invalid')
  }
  if (!signatureValid(alg, input, proof, segments.payload)) {
    throw new DpopProofError('signature_invalid')
  }

  // Claims (§4.2, §4.3 steps 8–12).
  const { jti, htm, htu, iat } = claims
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI) {
    throw new DpopProofError('claim_missing')
  }
  if (typeof htm !== 'string' || typeof htu !== 'string' || typeof iat !== 'number') {
    throw new DpopProofError('claim_missing')
  }
  if (htm !== request.method) throw new DpopProofError('htm_mismatch')
  if (!sameTarget(htu, request.url)) throw new DpopProofError('htu_mismatch')
  const seconds = Math.floor(now / 1000)
  if (iat > seconds + policy.clockTolerance) throw new DpopProofError('iat_future')
  if (iat < seconds - policy.maxAge - policy.clockTolerance) throw new DpopProofError('iat_stale')
  if (request.accessToken !== undefined) {
    if (claims.ath !== accessTokenHash(request.accessToken)) {
      throw new DpopProofError('ath_mismatch')
    }
  }
  if (request.nonce !== undefined) {
    if (typeof claims.nonce !== 'string') throw new DpopProofError('nonce_missing')
    if (!request.nonce(claims.nonce)) throw new DpopProofError('nonce_invalid')
  }

  if (request.jkt !== undefined && request.jkt !== jkt) throw new DpopProofError('jkt_mismatch')
  // Held until no clock could still accept it: iat + maxAge + tolerance.
  const expiresAt = (iat + policy.maxAge + policy.clockTolerance) * 1000
  let added: boolean
  try {
    added = await policy.replay.addIfAbsent(`${jkt}:${jti}`, expiresAt)
  } catch (cause) {
    throw new DpopProofError('replay_store_failed', { cause })
  }
  if (!added) throw new DpopProofError('replayed')
  return Object.freeze({ jkt, jti, iat })
}

/** Each allow-list's lookup table, built once per list (a policy's list is reused per proof). */
const tables = new WeakMap<readonly Algorithm[], ReturnType<typeof algorithmTable>>()

function allowed(algorithms: readonly Algorithm[]): ReturnType<typeof algorithmTable> {
  let table = tables.get(algorithms)
  if (table === undefined) {
    table = algorithmTable(algorithms)
    tables.set(algorithms, table)
  }
  return table
}

/** `ath` (RFC 9449 §4.2): base64url of the SHA-256 of the access token's ASCII bytes. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url')
}

/** `typ` compares as a media type: case-insensitive, with or without `application/` (RFC 7515 §4.1.9). */
function typIsDpop(typ: unknown): boolean {
  return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'dpop+jwt'
}

/**
 * `htu` against the request URI, both without query and fragment, after the normalisations of
 * RFC 3986 §6.2.2–6.2.3: the WHATWG URL parser's (case of scheme and host, default port, dot
 * segments) and percent-encoding's (hex case, unreserved characters decoded), which the parser
 * leaves alone. Only http(s) URIs match.
 */
function sameTarget(htu: string, url: string): boolean {
  // The common case, a client naming the URI exactly as the server sees it, needs no parsing.
  if (htu === url && /^https?:\/\/[^@/?#]+\/[^@?#]*$/i.test(htu)) return true
  const a = parseUrl(htu)
  const b = parseUrl(url)
  if (a === undefined || b === undefined) return false
  if (
    (a.protocol !== 'https:' && a.protocol !== 'http:') ||
    a.username !== '' ||
    a.password !== ''
  ) {
    return false
  }
  return (
    a.protocol === b.protocol &&
    a.host === b.host &&
    (a.pathname === b.pathname || normalPath(a.pathname) === normalPath(b.pathname))
  )
}

const PERCENT = /%[0-9a-fA-F]{2}/g
const UNRESERVED = /[A-Za-z0-9\-._~]/

/** RFC 3986 §6.2.2.1–2: `%7e` and `%7E` are `~`; other escapes compare in upper case. */
function normalPath(path: string): string {
  return path.replace(PERCENT, (escape) => {
    const char = String.fromCharCode(parseInt(escape.slice(1), 16))
    return UNRESERVED.test(char) ? char : escape.toUpperCase()
  })
}

/** `URL.parse` (Node 22) for Node 20: undefined instead of a throw. */
function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value)
  } catch {
    return undefined
  }
}
