/**
 * Published JWKs (RFC 7517 §4) made ready for `node:crypto.verify`, once per key set: each key
 * that some supported algorithm could select is imported through jose's `importJWK`, so exactly
 * the keys jose accepts are usable (WebCrypto's JWK checks: key type, curve, point on the curve,
 * `key_ops` against the key's usages), then held as a `KeyObject` with the ready `key` argument of
 * `crypto.verify` for each algorithm it may verify. Selection reads the members jose's
 * `createLocalJWKSet` reads (`kty`, `crv`, `alg`, `use`, `key_ops`, `ext`, `kid`), with its rules.
 */
import { KeyObject, type VerifyKeyObjectInput } from 'node:crypto'
import { importJWK, type JWK } from 'jose'
import { algorithmsFor, importAlgorithm, PSS_PADDING, type JwsAlgorithm } from './jws-algorithms.js'

/** What `crypto.verify` takes as its key for one algorithm. */
export type KeyInput = KeyObject | VerifyKeyObjectInput

/** One published key, as selection and verification use it. */
export interface VerifyKey {
  /** The members selection compares, as published (any JSON type). */
  readonly kid: unknown
  readonly kty: unknown
  readonly crv: unknown
  readonly alg: unknown
  /** `ext`, `key_ops` and `use` allow verification with this key, whatever the algorithm. */
  readonly usable: boolean
  /** The `key` argument of `crypto.verify` per algorithm name; empty when the import failed. */
  readonly inputs: ReadonlyMap<string, KeyInput>
  /** Why importing the key failed (mapped like jose's own import failure), else undefined. */
  readonly failure: unknown
  /** The RSA modulus length in bits; 0 for other key types. */
  readonly rsaBits: number
}

/**
 * True when `key` may verify `alg`: jose's `isUsableJWK` without the `kid` comparison
 * (`jwks/local.js`): the algorithm's key type and curve, and the key's `alg` when it has one.
 */
export function keyFits(key: VerifyKey, alg: JwsAlgorithm): boolean {
  return (
    key.usable &&
    key.kty === alg.kty &&
    (key.alg === undefined || key.alg === alg.name) &&
    (alg.crv === undefined || key.crv === alg.crv)
  )
}

/** Imports every key of a checked set; a key that fails to import stays, carrying its failure. */
export function importVerifyKeys(jwks: readonly object[]): Promise<VerifyKey[]> {
  return Promise.all(jwks.map(importVerifyKey))
}

/** jose's member rules for a verification key: `ext` a boolean if present, `key_ops`, `use`. */
export function membersAllowVerify(jwk: object): boolean {
  const { ext, key_ops: ops, use } = jwk as Record<string, unknown>
  return (
    (ext === undefined || typeof ext === 'boolean') &&
    (ops === undefined || verifyOps(ops)) &&
    (use === undefined || use === 'sig')
  )
}

async function importVerifyKey(jwk: object): Promise<VerifyKey> {
  const { kid, kty, crv, alg } = jwk as Record<string, unknown>
  const usable = membersAllowVerify(jwk)
  const base = { kid, kty, crv, alg, usable }
  const as = importAlgorithm(kty, crv)
  const algorithms = as === undefined ? [] : algorithmsFor(as.kty, crv)
  const selectable = algorithms.filter((a) => alg === undefined || alg === a.name)
  if (!usable || as === undefined || selectable.length === 0) {
    // No algorithm can ever select it: nothing to import.
    return { ...base, inputs: new Map(), failure: undefined, rsaBits: 0 }
  }
  let key: KeyObject
  try {
    const imported = await importJWK(jwk as JWK, as.name, { extractable: true })
    if (imported instanceof Uint8Array || imported.type !== 'public') {
      throw new TypeError('JSON Web Key Set members must be public keys')
    }
    key = KeyObject.from(imported)
  } catch (failure) {
    return { ...base, inputs: new Map(), failure, rsaBits: 0 }
  }
  const inputs = new Map<string, KeyInput>()
  for (const a of selectable) inputs.set(a.name, inputFor(key, a))
  const rsaBits = as.kty === 'RSA' ? (key.asymmetricKeyDetails?.modulusLength ?? 0) : 0
  return { ...base, inputs, failure: undefined, rsaBits }
}

/** jose's `key_ops` rule for selection: unique strings, `verify` among them. */
function verifyOps(ops: unknown): boolean {
  if (!Array.isArray(ops)) return false
  const list = ops as unknown[]
  return (
    list.every((op, i) => typeof op === 'string' && list.indexOf(op) === i) &&
    list.includes('verify')
  )
}

/** Built once per key and algorithm, so verification allocates no options object. */
function inputFor(key: KeyObject, alg: JwsAlgorithm): KeyInput {
  if (alg.saltLength !== undefined) {
    return Object.freeze({ key, padding: PSS_PADDING, saltLength: alg.saltLength })
  }
  if (alg.kty === 'EC') return Object.freeze({ key, dsaEncoding: 'ieee-p1363' as const })
  return key
}
