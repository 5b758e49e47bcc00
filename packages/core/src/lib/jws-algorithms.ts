/**
 * The asymmetric JWS algorithms svcauth verifies (RFC 7518 §3.3–3.5, RFC 8037 §3.1, RFC 9864
 * for `Ed25519`), each bound to the one key type (and curve) jose binds it to, and to how
 * `node:crypto.verify` must be called for it: the digest, PSS padding with a salt as long as the
 * digest (RFC 7518 §3.5), and ECDSA signatures as the fixed-length IEEE P1363 `r || s` (RFC 7518
 * §3.4), never DER.
 */
import { constants } from 'node:crypto'
import type { Algorithm } from '../issuer-options.js'

export interface JwsAlgorithm {
  readonly name: Algorithm
  /** The only JWK `kty` this algorithm uses. */
  readonly kty: 'RSA' | 'EC' | 'OKP'
  /** The only JWK `crv`, for EC and OKP keys. */
  readonly crv: string | undefined
  /** `node:crypto` digest name; null for EdDSA, which hashes internally. */
  readonly hash: string | null
  /** RSA-PSS salt length in bytes (= the digest length); undefined for PKCS#1 v1.5 and non-RSA. */
  readonly saltLength: number | undefined
  /** The exact signature length (ECDSA: 2 × the curve's byte length); undefined when variable. */
  readonly signatureLength: number | undefined
}

/** RSA keys under this many bits are refused for every RSA algorithm (RFC 7518 §3.3, jose). */
export const MIN_RSA_BITS = 2048

/** The `padding` value for RSA-PSS verification. */
export const PSS_PADDING = constants.RSA_PKCS1_PSS_PADDING

const rsa = (name: Algorithm, bits: number, pss: boolean): JwsAlgorithm => ({
  name,
  kty: 'RSA',
  crv: undefined,
  hash: `sha${bits}`,
  saltLength: pss ? bits / 8 : undefined,
  signatureLength: undefined,
})

const ecdsa = (name: Algorithm, crv: string, bits: number, size: number): JwsAlgorithm => ({
  name,
  kty: 'EC',
  crv,
  hash: `sha${bits}`,
  saltLength: undefined,
  signatureLength: 2 * size,
})

const eddsa = (name: Algorithm): JwsAlgorithm => ({
  name,
  kty: 'OKP',
  crv: 'Ed25519',
  hash: null,
  saltLength: undefined,
  signatureLength: undefined,
})

const TABLE: ReadonlyMap<string, JwsAlgorithm> = new Map(
  [
    rsa('RS256', 256, false),
    rsa('RS384', 384, false),
    rsa('RS512', 512, false),
    rsa('PS256', 256, true),
    rsa('PS384', 384, true),
    rsa('PS512', 512, true),
    ecdsa('ES256', 'P-256', 256, 32),
    ecdsa('ES384', 'P-384', 384, 48),
    ecdsa('ES512', 'P-521', 512, 66),
    eddsa('EdDSA'),
    eddsa('Ed25519'),
  ].map((a) => [a.name, Object.freeze(a)]),
)

/** The allow-list as a lookup table: alg name → its binding. */
export function algorithmTable(
  algorithms: readonly Algorithm[],
): ReadonlyMap<string, JwsAlgorithm> {
  const out = new Map<string, JwsAlgorithm>()
  for (const name of algorithms) {
    const entry = TABLE.get(name)
    if (entry !== undefined) out.set(name, entry)
  }
  return out
}

/**
 * The algorithm a key is imported under, from its `kty` and `crv` alone: importing a JWK gives
 * the same key whichever algorithm of its type asks (WebCrypto ignores the JWK's `alg` and `use`
 * once jose has dropped them), so each key is imported once. Undefined for a key no supported
 * algorithm can select.
 */
export function importAlgorithm(kty: unknown, crv: unknown): JwsAlgorithm | undefined {
  if (kty === 'RSA') return TABLE.get('RS256')
  if (kty === 'EC') {
    for (const name of ['ES256', 'ES384', 'ES512']) {
      const entry = TABLE.get(name)
      if (entry?.crv === crv) return entry
    }
    return undefined
  }
  return kty === 'OKP' && crv === 'Ed25519' ? TABLE.get('EdDSA') : undefined
}

/** Every supported algorithm of one key type and curve (the ones a key may be selected for). */
export function algorithmsFor(kty: string, crv: unknown): JwsAlgorithm[] {
  return [...TABLE.values()].filter((a) => a.kty === kty && (a.crv === undefined || a.crv === crv))
}
