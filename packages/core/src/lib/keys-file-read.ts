/**
 * Reading a key file (`keysFile`, issue 20, item 1): synchronously at construction, where every
 * problem is a start-up error, and asynchronously when the file changes, where a problem keeps
 * the last good keys. Both read the same way: the file's identity and version from `stat`
 * (inode, size, modification time in nanoseconds: a rename or a Kubernetes `..data` symlink swap
 * changes the inode, an in-place write the size or time), a byte cap before reading
 * (`jwks.maxBytes`, checked on the size and on what was read), then the text as a JWKS or PEM
 * (`key-material.ts`). Messages name the condition (an errno code, a size), never the contents.
 */
import { readFileSync, statSync, type BigIntStats } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { materialFromText, type KeyMaterial, type MaterialPolicy } from './key-material.js'
import { InvalidKeySetError, type KeyFailureReason } from './key-failure.js'

/** One examined version of the file and the key material it holds. */
export interface KeysFileSnapshot {
  /** Inode, size and modification time, as one comparable string. */
  readonly stamp: string
  readonly bytes: Buffer
  readonly material: KeyMaterial
}

/** Why a version of the file could not be used: unreadable, or not a usable key set. */
export class KeysFileError extends Error {
  readonly reason: Extract<KeyFailureReason, 'keys_file_invalid' | 'keys_file_unreadable'>
  constructor(reason: KeysFileError['reason'], message: string) {
    super(message)
    this.name = 'KeysFileError'
    this.reason = reason
  }
}

/** What a read is checked against. */
export interface KeysFilePolicy extends MaterialPolicy {
  readonly maxBytes: number
}

/** The comparable identity of one version of the file. */
export function stampOf(stats: BigIntStats): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeNs}`
}

/** Reads and checks the file at start-up; throws a KeysFileError. */
export function readKeysFileSync(path: string, policy: KeysFilePolicy): KeysFileSnapshot {
  let stats: BigIntStats
  let bytes: Buffer
  try {
    stats = statSync(path, { bigint: true })
    checkStats(stats, policy)
    bytes = readFileSync(path)
  } catch (err) {
    throw asFileError(err)
  }
  return snapshot(stampOf(stats), bytes, policy)
}

/** The file's stamp now; throws a KeysFileError when it cannot be had. */
export async function statKeysFile(path: string, policy: KeysFilePolicy): Promise<string> {
  try {
    const stats = await stat(path, { bigint: true })
    checkStats(stats, policy)
    return stampOf(stats)
  } catch (err) {
    throw asFileError(err)
  }
}

/** The file's bytes now; throws a KeysFileError. */
export async function readKeysFile(path: string, policy: KeysFilePolicy): Promise<Buffer> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err) {
    throw asFileError(err)
  }
  // The file may have grown between stat and read.
  if (bytes.length > policy.maxBytes) throw tooLarge(bytes.length, policy)
  return bytes
}

/** Checks read bytes as a key set; throws a KeysFileError (`keys_file_invalid`). */
export function snapshot(stamp: string, bytes: Buffer, policy: KeysFilePolicy): KeysFileSnapshot {
  if (bytes.length > policy.maxBytes) throw tooLarge(bytes.length, policy)
  try {
    return { stamp, bytes, material: materialFromText(bytes.toString('utf8'), policy) }
  } catch (err) {
    // Whatever went wrong, it was with the contents: the file itself was read.
    throw new KeysFileError(
      'keys_file_invalid',
      err instanceof InvalidKeySetError ? err.message : 'not a usable key set',
    )
  }
}

function checkStats(stats: BigIntStats, policy: KeysFilePolicy): void {
  if (!stats.isFile()) throw new KeysFileError('keys_file_unreadable', 'not a regular file')
  if (stats.size > BigInt(policy.maxBytes)) throw tooLarge(Number(stats.size), policy)
}

function tooLarge(size: number, policy: KeysFilePolicy): KeysFileError {
  return new KeysFileError(
    'keys_file_invalid',
    `${size} bytes, over the jwks.maxBytes cap of ${policy.maxBytes}`,
  )
}

function asFileError(err: unknown): KeysFileError {
  if (err instanceof KeysFileError) return err
  const code = (err as { code?: unknown } | null)?.code
  return new KeysFileError(
    'keys_file_unreadable',
    `cannot be read (${typeof code === 'string' ? code : 'error'})`,
  )
}
