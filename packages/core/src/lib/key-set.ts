/**
 * One fetched JWKS (RFC 7517 §5), checked before use: a JSON object with a `keys` array of at
 * most `maxKeys` objects, none with a private member (catalogue D10, G6; the whole set is refused
 * otherwise), turned into keys imported once for `node:crypto` (`verify-keys.ts`) plus what each
 * kid stands for (`key-identity.ts`). Key selection follows jose's `createLocalJWKSet` exactly
 * (RFC 7515 §4.1.4, RFC 7517 §4.2–4.5): the algorithm's key type and curve, the key's `alg`,
 * `use` and `key_ops`, and the header's `kid` when it has one; no key is "not found", several are
 * "ambiguous" (jose refuses those too, rather than trying each).
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
}

/** Outcome of a selection that found no single key. */
export type NoSingleKey = 'none' | 'ambiguous'

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv']

/**
 * The one key of `keys` that may verify `alg` under the header's `kid` (any JSON value: only a
 * string names a key; a missing kid leaves every fitting key in the race). No allocation.
 */
export function selectKey(keys: Keys, alg: JwsAlgorithm, kid: unknown): VerifyKey | NoSingleKey {
  let fitting = keys.byAlg.get(alg.name)
  if (fitting === undefined) {
    fitting = keys.keys.filter((key) => keyFits(key, alg))
    keys.byAlg.set(alg.name, fitting)
  }
  if (kid !== undefined && typeof kid !== 'string') return 'none'
  let found: VerifyKey | undefined
  for (const key of fitting) {
    if (kid !== undefined && key.kid !== kid) continue
    if (found !== undefined) return 'ambiguous'
    found = key
  }
  return found ?? 'none'
}

/** Checks a fetched body and imports its keys; throws an InvalidKeySetError saying why not. */
export async function parseKeySet(
  body: unknown,
  maxKeys: number,
): Promise<Pick<Keys, 'keys' | 'identities'>> {
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
  const [verifyKeys, identities] = await Promise.all([
    importVerifyKeys(keys as object[]),
    keyIdentities(keys as object[]),
  ])
  return { keys: verifyKeys, identities }
}
