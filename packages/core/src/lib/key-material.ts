/**
 * An issuer's keys given offline (issue 20, item 1), checked synchronously so that a mistake is a
 * start-up error: the `keys` option (a JWKS object, one public JWK, PEM text or an array of PEM
 * strings) or a key file's text (a JWKS, or PEM when it has an encapsulation boundary). The result
 * is the members of one JWKS, checked by the same rules as a fetched set (`checkKeySet`: shape,
 * `maxKeys`, no private members, RFC 7517 §5, catalogue D10, G6), and refused when none of its
 * keys could verify a token under the issuer's algorithms (an RSA key under 2048 bits, a key of
 * another type or curve, or one restricted by `alg`, `use` or `key_ops` cannot): such a
 * configuration can never accept anything. The import itself stays jose's, later
 * (`importKeySet`), as for fetched keys.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto'
import type { Algorithm } from '../issuer-options.js'
import { algorithmsFor, importAlgorithm, MIN_RSA_BITS } from './jws-algorithms.js'
import { InvalidKeySetError } from './key-failure.js'
import { checkKeySet, importKeySet, type Keys } from './key-set.js'
import { looksLikePem, pemToJwks } from './pem-keys.js'
import { membersAllowVerify } from './verify-keys.js'

/** The checked members of one offline key set. */
export interface KeyMaterial {
  /** Public JWKs, frozen copies of what was given (or converted from PEM). */
  readonly jwks: readonly object[]
  /** From PEM: the keys name no `kid` and match a token whatever its `kid` (see `key-set.ts`). */
  readonly anyKid: boolean
}

/** What a key set is checked against: the key-count cap and the issuer's allow-list. */
export interface MaterialPolicy {
  readonly maxKeys: number
  readonly algorithms: readonly Algorithm[]
}

/** The `keys` option as material; throws an InvalidKeySetError that never repeats the material. */
export function materialFromOption(value: unknown, policy: MaterialPolicy): KeyMaterial {
  if (typeof value === 'string') return fromPem(value, policy)
  if (Array.isArray(value)) {
    if (value.length === 0 || !value.every((v) => typeof v === 'string')) {
      throw new InvalidKeySetError(
        'an array must hold PEM strings (give JWKs as a JWKS object: { keys: [...] })',
      )
    }
    return fromPem(value.join('\n'), policy)
  }
  if (typeof value !== 'object' || value === null) {
    throw new InvalidKeySetError('must be a JWKS object, a public JWK, PEM text or PEM strings')
  }
  return fromJson(value, policy)
}

/** A key file's text as material: PEM when it has an encapsulation boundary, else JSON. */
export function materialFromText(text: string, policy: MaterialPolicy): KeyMaterial {
  if (looksLikePem(text)) return fromPem(text, policy)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new InvalidKeySetError('neither JSON nor PEM')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidKeySetError('not a JWKS (a JSON object with a "keys" array)')
  }
  return fromJson(value, policy)
}

/** Imports checked material into an installable key set (jose, as for fetched keys). */
export async function importMaterial(material: KeyMaterial, version: number): Promise<Keys> {
  const { keys, identities } = await importKeySet(material.jwks)
  return { keys, identities, version, byAlg: new Map(), anyKid: material.anyKid }
}

function fromPem(text: string, policy: MaterialPolicy): KeyMaterial {
  const jwks = pemToJwks(text)
  return checked({ keys: jwks }, true, policy)
}

function fromJson(value: object, policy: MaterialPolicy): KeyMaterial {
  // One public JWK is accepted as a set of one (express-oauth2-jwt-bearer's `publicKey`).
  const set = !('keys' in value) && 'kty' in value ? { keys: [value] } : value
  const members = (set as { keys?: unknown }).keys
  if (Array.isArray(members) && members.some(isSecretKey)) {
    throw new InvalidKeySetError('a shared-secret (kty "oct") key was given: give public keys only')
  }
  return checked(set, false, policy)
}

function isSecretKey(member: unknown): boolean {
  return (
    typeof member === 'object' && member !== null && (member as { kty?: unknown }).kty === 'oct'
  )
}

function checked(set: unknown, anyKid: boolean, policy: MaterialPolicy): KeyMaterial {
  const members = checkKeySet(set, policy.maxKeys)
  if (members.length === 0) throw new InvalidKeySetError('no key given')
  const copies = members.map((jwk) => Object.freeze(structuredClone(jwk)))
  if (!copies.some((jwk) => usableFor(jwk, policy.algorithms))) {
    throw new InvalidKeySetError(
      `no key can verify ${policy.algorithms.join(', ')} ` +
        `(key type and curve, alg, use and key_ops, RSA of at least ${MIN_RSA_BITS} bits)`,
    )
  }
  return Object.freeze({ jwks: Object.freeze(copies), anyKid })
}

/**
 * True when `jwk` could verify some algorithm of the allow-list: the selection rules of
 * `verify-keys.ts`, and a key `node:crypto` can load (a point on the curve, an RSA modulus of at
 * least 2048 bits).
 */
function usableFor(jwk: object, algorithms: readonly Algorithm[]): boolean {
  const { kty, crv, alg } = jwk as Record<string, unknown>
  if (!membersAllowVerify(jwk)) return false
  const as = importAlgorithm(kty, crv)
  if (as === undefined) return false
  const fits = algorithmsFor(as.kty, crv).some(
    (a) => algorithms.includes(a.name) && (alg === undefined || alg === a.name),
  )
  if (!fits) return false
  try {
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
    return as.kty !== 'RSA' || (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS
  } catch {
    return false
  }
}
