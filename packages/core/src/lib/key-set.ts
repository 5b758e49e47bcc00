/**
 * One JWKS (RFC 7517 §5), fetched or given offline (issue 20, item 1), checked before use: a JSON
 * object with a `keys` array of at most `maxKeys` objects, none with a private member (catalogue
 * D10, G6; the whole set is refused otherwise), turned into keys imported once for `node:crypto`
 * (`verify-keys.ts`) plus what each kid stands for (`key-identity.ts`). Key selection follows
 * jose's `createLocalJWKSet` exactly (RFC 7515 §4.1.4, RFC 7517 §4.2–4.5): the algorithm's key
 * type and curve, the key's `alg`, `use` and `key_ops`, and the header's `kid` when it has one; no
 * key is "not found", several are "ambiguous" (jose refuses those too, rather than trying each).
 *
 * The one exception is a set made from PEM keys (`anyKid`, `key-material.ts`): PEM carries no
 * `kid`, so its keys match a token whatever its `kid`, and several that fit the algorithm (an old
 * and a new key given together) are "several": the verifier tries each in turn.
 */
import { InvalidKeySetError } from './key-failure.js'
import { keyIdentities, type KeyIdentities } from './key-identity.js'
import type { JwsAlgorithm } from './jws-algorithms.js'
import { importVerifyKeys, keyFits, type VerifyKey } from './verify-keys.js'

/** One installed key set: its imported keys, what each kid stands for, and its version. */
export interface Keys {
  readonly keys: readonly VerifyKey[]
  readonly identities: KeyIdentities
  readonly version: number
  /** Per algorithm name, the keys that fit it whatever the kid; filled on first use. */
  readonly byAlg: Map<string, readonly VerifyKey[]>
  /** Keys from PEM: each matches a token whatever its `kid`, and several fitting ones are tried. */
  readonly anyKid: boolean
}

/**
 * Outcome of a selection that found no single key: none, several under jose's rules
 * (`ambiguous`), or several PEM keys to try in turn (`several`, only where `anyKid`).
 */
export type NoSingleKey = 'none' | 'ambiguous' | 'several'

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv']

/**
 * The one key of `keys` that may verify `alg` under the header's `kid` (any JSON value: only a
 * string names a key; a missing kid leaves every fitting key in the race). No allocation.
 */
export function selectKey(keys: Keys, alg: JwsAlgorithm, kid: unknown): VerifyKey | NoSingleKey {
  const fitting = fittingKeys(keys, alg)
  // A kid that is not a string names no key, PEM keys included (catalogue D5).
  if (kid !== undefined && typeof kid !== 'string') return 'none'
  if (keys.anyKid) {
    if (fitting.length > 1) return 'several'
    return fitting[0] ?? 'none'
  }
  let found: VerifyKey | undefined
  for (const key of fitting) {
    if (kid !== undefined && key.kid !== kid) continue
    if (found !== undefined) return 'ambiguous'
    found = key
  }
  return found ?? 'none'
}

/** The keys of `keys` that fit `alg` whatever the kid, computed once per set and algorithm. */
export function fittingKeys(keys: Keys, alg: JwsAlgorithm): readonly VerifyKey[] {
  let fitting = keys.byAlg.get(alg.name)
  if (fitting === undefined) {
    fitting = keys.keys.filter((key) => keyFits(key, alg))
    keys.byAlg.set(alg.name, fitting)
  }
  return fitting
}

/** Checks a fetched body and imports its keys; throws an InvalidKeySetError saying why not. */
export async function parseKeySet(
  body: unknown,
  maxKeys: number,
): Promise<Pick<Keys, 'keys' | 'identities'>> {
  return importKeySet(checkKeySet(body, maxKeys))
}

/**
 * The members of a JWKS, checked for shape, count and private members (synchronously: offline
 * keys are checked at construction); throws an InvalidKeySetError saying why not.
 */
export function checkKeySet(body: unknown, maxKeys: number): object[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidKeySetError('JWKS is not a JSON object')
  }
  const keys = (body as { keys?: unknown }).keys
  if (!Array.isArray(keys)) throw new InvalidKeySetError('JWKS has no "keys" array')
  if (keys.length > maxKeys)
    throw new InvalidKeySetError(`JWKS has ${keys.length} keys, over the cap of ${maxKeys}`)
  for (const key of keys as unknown[]) {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) {
      throw new InvalidKeySetError('JWKS member is not an object')
    }
    for (const member of PRIVATE_MEMBERS) {
      if (Object.prototype.hasOwnProperty.call(key, member)) {
        throw new InvalidKeySetError('JWKS members must be public keys')
      }
    }
  }
  return keys as object[]
}

/** Imports checked members (jose's `importJWK`) and computes what each kid stands for. */
export async function importKeySet(
  members: readonly object[],
): Promise<Pick<Keys, 'keys' | 'identities'>> {
  const [verifyKeys, identities] = await Promise.all([
    importVerifyKeys(members),
    keyIdentities(members),
  ])
  return { keys: verifyKeys, identities }
}
