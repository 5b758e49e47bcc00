/**
 * One fetched JWKS (RFC 7517 §5), checked before use: a JSON object with a `keys` array of at
 * most `maxKeys` objects, none with a private member (catalogue D10, G6; the whole set is refused
 * otherwise), turned into jose's resolver plus what each kid stands for (`key-identity.ts`).
 */
import {
  createLocalJWKSet,
  type JSONWebKeySet,
  type JWTHeaderParameters,
  type FlattenedJWSInput,
} from 'jose'
import { InvalidKeySetError } from './key-failure.js'
import { keyIdentities, type KeyIdentities } from './key-identity.js'

export type LocalSet = ReturnType<typeof createLocalJWKSet>

/** One installed key set: jose's resolver, what each kid stands for, and its version. */
export interface Keys {
  readonly set: LocalSet
  readonly identities: KeyIdentities
  readonly version: number
}

/** Filled by a key lookup: the key a verification used, and the set it came from. */
export interface KeyUse {
  identity: string | undefined
  version: number
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv']

/** Records the identity of the key about to be resolved, from the same key set, then resolves it. */
export function resolveKey(
  keys: Keys,
  header: JWTHeaderParameters,
  token: FlattenedJWSInput,
  used: KeyUse | undefined,
): ReturnType<LocalSet> {
  if (used !== undefined) {
    const kid = header.kid
    used.identity = typeof kid === 'string' ? (keys.identities.get(kid) ?? undefined) : undefined
    used.version = keys.version
  }
  return keys.set(header, token)
}

/** Checks a fetched body and builds the resolver and identities; throws an InvalidKeySetError saying why not. */
export async function parseKeySet(
  body: unknown,
  maxKeys: number,
): Promise<Pick<Keys, 'set' | 'identities'>> {
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
  const jwks: JSONWebKeySet = { keys: keys as JSONWebKeySet['keys'] }
  return { set: createLocalJWKSet(jwks), identities: await keyIdentities(keys as object[]) }
}
