/**
 * Where one issuer's keys come from (issue 20, item 1): fetched (`jwksUri`, or discovery from the
 * issuer), given inline (`keys`) or read from a file (`keysFile`); at most one of the three. Keys
 * given offline are checked here, synchronously, so that a mistake is a TypeError at start-up
 * naming the option (and the path) and why, never the key material: the file is read now, and
 * watched later by `keys-file.ts`.
 */
import { resolve } from 'node:path'
import type { Algorithm } from './issuer-options.js'
import { fail } from './lib/checks.js'
import { materialFromOption, type KeyMaterial } from './lib/key-material.js'
import { InvalidKeySetError } from './lib/key-failure.js'
import { KeysFileError, readKeysFileSync, type KeysFileSnapshot } from './lib/keys-file-read.js'

/** One public JSON Web Key (RFC 7517 §4): `kty` and the public members of its type. */
export interface PublicJwk {
  readonly kty?: string
  readonly kid?: string
  readonly [member: string]: unknown
}

/** A JWK Set (RFC 7517 §5) of public keys. */
export interface PublicJwkSet {
  readonly keys: readonly PublicJwk[]
}

/**
 * An issuer's keys given without a network: a JWKS object, one public JWK, PEM text (SPKI public
 * keys, PKCS #1 RSA public keys or X.509 certificates, one or several blocks), or PEM strings.
 */
export type OfflineKeys = PublicJwkSet | PublicJwk | string | readonly string[]

/** A key file, with the version read at start-up. */
export interface ResolvedKeysFile {
  /** Absolute path, as given resolved against the working directory at start-up. */
  readonly path: string
  readonly initial: KeysFileSnapshot
}

/** The options that say where an issuer's keys come from. */
export interface KeyOptions {
  readonly jwksUri?: unknown
  readonly keys?: unknown
  readonly keysFile?: unknown
}

/** What offline keys are checked against: the issuer's allow-list and the `jwks` caps. */
export interface KeyPolicy {
  readonly algorithms: readonly Algorithm[]
  readonly maxKeys: number
  readonly maxBytes: number
}

/** Checks the key options of one issuer; `at` prefixes option names (e.g. `issuers[1].`). */
export function resolveKeyOptions(
  at: string,
  config: KeyOptions,
  policy: KeyPolicy,
): { keys: KeyMaterial | undefined; keysFile: ResolvedKeysFile | undefined } {
  const given = (['jwksUri', 'keys', 'keysFile'] as const).filter((o) => config[o] !== undefined)
  if (given.length > 1) {
    fail(`${given.map((o) => at + o).join(' and ')}: give one source of keys, not several`)
  }
  let keys: KeyMaterial | undefined
  if (config.keys !== undefined) {
    try {
      keys = materialFromOption(config.keys, policy)
    } catch (err) {
      if (err instanceof InvalidKeySetError) fail(`${at}keys: ${err.message}`)
      throw err
    }
  }
  return { keys, keysFile: resolveKeysFile(`${at}keysFile`, config.keysFile, policy) }
}

function resolveKeysFile(
  name: string,
  value: unknown,
  policy: KeyPolicy,
): ResolvedKeysFile | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '') fail(`${name} must be a path`)
  const path = resolve(value)
  try {
    return Object.freeze({ path, initial: readKeysFileSync(path, policy) })
  } catch (err) {
    if (err instanceof KeysFileError) fail(`${name} ${path}: ${err.message}`)
    throw err
  }
}
