/**
 * The client's DPoP key (RFC 9449 §2, §4.2): the `dpop` option resolved once, at construction,
 * into a private KeyObject, the JWS algorithm it signs with, the public JWK every proof carries
 * (its required public members only, RFC 7517 §4, RFC 7518 §6) and that JWK's RFC 7638 SHA-256
 * thumbprint (the `cnf.jkt` of the tokens bound to it, RFC 9449 §6.1). `true` generates a P-256
 * pair (ES256). A given key may be a KeyObject, a WebCrypto CryptoKey or a private JWK; a
 * symmetric or public key, an algorithm that does not fit the key, an unsupported curve or an RSA
 * modulus outside 2048–4096 bits (the range svcauth's own verifier accepts for proof keys) is a
 * TypeError naming the option. Signing runs on `node:crypto`, synchronously: one proof per
 * dispatch, with ECDSA signatures in the JWS form (IEEE P1363 `r || s`, RFC 7518 §3.4), RSASSA-PSS
 * with a salt as long as the digest (RFC 7518 §3.5).
 */
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  sign,
  type JsonWebKey,
  type SignKeyObjectInput,
} from 'node:crypto'
import type { CryptoKey, JWK } from 'jose'
import { optionError } from './option-checks.js'

/** The JWS algorithms a DPoP key may sign proofs with (asymmetric only, RFC 9449 §4.2). */
export type DpopAlgorithm =
  'ES256' | 'ES384' | 'ES512' | 'PS256' | 'PS384' | 'PS512' | 'RS256' | 'RS384' | 'RS512' | 'EdDSA'

/** The `dpop` option's object form: the key proofs are signed with, and its algorithm. */
export interface DpopKeyOptions {
  /** A private key: a KeyObject, a CryptoKey or a private JWK (never a symmetric or public one). */
  privateKey: KeyObject | CryptoKey | JWK
  /**
   * The proof algorithm.
   * @default the JWK's `alg`; else the CryptoKey's own algorithm; else ES256, ES384 or ES512 by
   * curve, EdDSA for Ed25519, RS256 for RSA
   */
  alg?: DpopAlgorithm
}

/** A resolved DPoP key: what the prover signs with and what every proof header names. */
export interface DpopKey {
  readonly alg: DpopAlgorithm
  /** The public JWK, its required members only (what goes in the proof's `jwk` header). */
  readonly publicJwk: Readonly<Record<string, string>>
  /** RFC 7638 SHA-256 thumbprint of `publicJwk`, base64url. */
  readonly jkt: string
  /** Signs the JWS signing input; the signature in its JWS form. */
  sign(input: Buffer): Buffer
}

interface Signing {
  readonly kind: 'ec' | 'rsa' | 'ed25519'
  /** EC curve as node:crypto names it. */
  readonly curve?: string
  readonly hash: string | null
  readonly pss: boolean
}

const SIGNING: Readonly<Record<DpopAlgorithm, Signing>> = {
  ES256: { kind: 'ec', curve: 'prime256v1', hash: 'sha256', pss: false },
  ES384: { kind: 'ec', curve: 'secp384r1', hash: 'sha384', pss: false },
  ES512: { kind: 'ec', curve: 'secp521r1', hash: 'sha512', pss: false },
  PS256: { kind: 'rsa', hash: 'sha256', pss: true },
  PS384: { kind: 'rsa', hash: 'sha384', pss: true },
  PS512: { kind: 'rsa', hash: 'sha512', pss: true },
  RS256: { kind: 'rsa', hash: 'sha256', pss: false },
  RS384: { kind: 'rsa', hash: 'sha384', pss: false },
  RS512: { kind: 'rsa', hash: 'sha512', pss: false },
  EdDSA: { kind: 'ed25519', hash: null, pss: false },
}

const ALGORITHMS = Object.keys(SIGNING) as DpopAlgorithm[]

/** The ES algorithm of each supported curve. */
const EC_ALGORITHMS: Readonly<Record<string, DpopAlgorithm>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
}

const MIN_RSA_BITS = 2048
/** svcauth's verifier refuses larger proof keys (their cost is the caller's choice). */
const MAX_RSA_BITS = 4096

/** The RFC 7638 required members of each key type, in lexicographic order. */
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
}

/** Resolves the `dpop` option; undefined when it is off. */
export function resolveDpopKey(option: unknown): DpopKey | undefined {
  if (option === undefined || option === false) return undefined
  if (option === true) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    return dpopKey(privateKey, 'ES256')
  }
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    optionError('dpop must be true, false, or { privateKey, alg? }')
  }
  const { privateKey, alg: given } = option as { privateKey?: unknown; alg?: unknown }
  if (given !== undefined && !ALGORITHMS.includes(given as DpopAlgorithm)) {
    optionError(`dpop.alg must be one of ${ALGORITHMS.join(', ')}`)
  }
  const alg = given as DpopAlgorithm | undefined
  const { key, ownAlg } = privateKeyObject(privateKey)
  const chosen = alg ?? ownAlg ?? defaultAlg(key)
  if (alg !== undefined && ownAlg !== undefined && alg !== ownAlg) {
    optionError(`dpop.alg ${alg} does not match the key's own algorithm ${ownAlg}`)
  }
  return dpopKey(key, chosen)
}

/**
 * The private KeyObject behind `value`, and the algorithm the key itself names (a JWK's `alg`, a
 * CryptoKey's algorithm), if any.
 */
function privateKeyObject(value: unknown): { key: KeyObject; ownAlg: DpopAlgorithm | undefined } {
  if (value instanceof KeyObject) return { key: checkPrivate(value), ownAlg: undefined }
  if (isCryptoKey(value)) {
    return { key: checkPrivate(KeyObject.from(value)), ownAlg: cryptoKeyAlg(value) }
  }
  if (typeof value !== 'object' || value === null || typeof (value as JWK).kty !== 'string') {
    return optionError('dpop.privateKey must be a KeyObject, a CryptoKey or a private JWK')
  }
  const jwk = value as JWK
  if (jwk.kty === 'oct') symmetric()
  if (typeof jwk.d !== 'string')
    optionError('dpop.privateKey is a public JWK; give the private key')
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    optionError(`dpop.privateKey is a JWK for use "${jwk.use}", not "sig"`)
  }
  if (jwk.alg !== undefined && !ALGORITHMS.includes(jwk.alg as DpopAlgorithm)) {
    optionError(`dpop.privateKey's alg ${jwk.alg} is not one of ${ALGORITHMS.join(', ')}`)
  }
  let key: KeyObject
  try {
    key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' })
  } catch {
    // The cause may quote key material: not kept.
    return optionError('dpop.privateKey is not a valid private JWK')
  }
  return { key, ownAlg: jwk.alg as DpopAlgorithm | undefined }
}

function checkPrivate(key: KeyObject): KeyObject {
  if (key.type === 'secret') symmetric()
  if (key.type !== 'private') optionError('dpop.privateKey is a public key; give the private key')
  return key
}

function symmetric(): never {
  return optionError('dpop.privateKey must be an asymmetric private key, not a symmetric one')
}

/** The WebCrypto class (global since Node 19; looked up, as the type above is jose's). */
const WebCryptoKey = (globalThis as { CryptoKey?: abstract new () => unknown }).CryptoKey

function isCryptoKey(value: unknown): value is CryptoKey {
  return WebCryptoKey !== undefined && value instanceof WebCryptoKey
}

/** The algorithm a WebCrypto key is bound to (its `algorithm` and, for RSA, its hash). */
function cryptoKeyAlg(key: CryptoKey): DpopAlgorithm | undefined {
  const algorithm = key.algorithm as { name: string; hash?: { name: string } }
  const bits = algorithm.hash?.name.replace(/^SHA-/, '')
  switch (algorithm.name) {
    case 'RSASSA-PKCS1-v1_5':
      return fromList(`RS${bits ?? ''}`)
    case 'RSA-PSS':
      return fromList(`PS${bits ?? ''}`)
    case 'Ed25519':
      return 'EdDSA'
    default:
      // ECDSA keys are bound to a curve, not a hash: the curve decides (defaultAlg).
      return undefined
  }
}

function fromList(name: string): DpopAlgorithm | undefined {
  return ALGORITHMS.includes(name as DpopAlgorithm) ? (name as DpopAlgorithm) : undefined
}

function defaultAlg(key: KeyObject): DpopAlgorithm {
  const type = key.asymmetricKeyType
  if (type === 'ec') {
    return EC_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? unsupportedCurve(key)
  }
  if (type === 'ed25519') return 'EdDSA'
  if (type === 'rsa') return 'RS256'
  return unsupportedType(key)
}

function unsupportedCurve(key: KeyObject): never {
  return optionError(
    `dpop.privateKey is on curve ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}; use P-256, P-384, P-521 or Ed25519`,
  )
}

function unsupportedType(key: KeyObject): never {
  return optionError(
    `dpop.privateKey is a ${key.asymmetricKeyType ?? 'unknown'} key; use an EC (P-256, P-384, P-521), Ed25519 or RSA key`,
  )
}

/** Checks that `alg` fits `key`, then builds the DpopKey. */
function dpopKey(key: KeyObject, alg: DpopAlgorithm): DpopKey {
  const signing = SIGNING[alg]
  const type = key.asymmetricKeyType
  if (type !== 'ec' && type !== 'rsa' && type !== 'ed25519') unsupportedType(key)
  if (type !== signing.kind) optionError(`dpop.alg ${alg} does not fit a ${type} key`)
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve !== signing.curve) {
    if (EC_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ''] === undefined) {
      unsupportedCurve(key)
    }
    optionError(`dpop.alg ${alg} does not fit the key's curve`)
  }
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
      optionError(
        `dpop.privateKey is a ${bits}-bit RSA key; DPoP proof keys must have ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits`,
      )
    }
  }
  const publicJwk = publicMembers(createPublicKey(key).export({ format: 'jwk' }))
  const options: SignKeyObjectInput = signing.pss
    ? {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      }
    : { key, dsaEncoding: 'ieee-p1363' }
  return Object.freeze({
    alg,
    publicJwk,
    jkt: thumbprint(publicJwk),
    sign: (input: Buffer) => sign(signing.hash, input, options),
  })
}

/** The required public members of an exported JWK, nothing else (RFC 9449 §4.2: no private key). */
function publicMembers(jwk: JsonWebKey): Readonly<Record<string, string>> {
  const members = REQUIRED[jwk.kty ?? ''] ?? []
  const out: Record<string, string> = {}
  for (const name of members) {
    const value: unknown = jwk[name]
    if (typeof value === 'string') out[name] = value
  }
  return Object.freeze(out)
}

/** RFC 7638 §3: SHA-256 over the required members in lexicographic order, no whitespace. */
function thumbprint(jwk: Readonly<Record<string, string>>): string {
  return createHash('sha256').update(JSON.stringify(jwk)).digest('base64url')
}
