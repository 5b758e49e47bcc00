/**
 * An issuer's keys read from a file (`keysFile`, issue 20, item 1), for sites where configuration
 * management distributes the authorization server's keys and services cannot reach it. The first
 * version was read and checked at construction (`key-options.ts`: a bad file is a start-up
 * error); this source imports it (jose, as for fetched keys), then follows the file:
 *
 * - **Watching the directory**, not the file: configuration management replaces a file by
 *   renaming a new one over it, and a Kubernetes ConfigMap volume swaps a `..data` symlink, so a
 *   watch on the file itself would go on watching the old inode. Events are debounced
 *   ({@link SETTLE_MS}) so a write in several steps is read once it settled.
 * - **A stat check every `jwks.refreshInterval`** as a safety net where watching fails (network
 *   and some container filesystems), and on an unknown `kid` at most once per `jwks.cooldown`.
 * - **Each check compares before it reads**: the stamp (inode, size, modification time) with the
 *   last version examined, then the bytes with the installed ones, so an unchanged file costs one
 *   `stat` and the same keys are never re-installed (which would drop the verified-token cache).
 * - **A bad or unreadable version keeps the last good keys**: it is logged at error level once per
 *   change (`keys_file_invalid`, `keys_file_unreadable`, with their `SVCAUTH_…` codes) and kept
 *   as `lastFailure` in `status()`. A good version installs its keys (a new key-set version:
 *   cached tokens verified by a key it dropped are dropped; issue 14, R6) and updates `fetchedAt`.
 *   File keys never go stale (`jwks.maxStale` does not apply).
 *
 * The watcher and timers are unref'd (they never keep a process alive) and stopped by `close()`.
 */
import { watch, type FSWatcher } from 'node:fs'
import { dirname } from 'node:path'
import type { Algorithm } from './issuer-options.js'
import type { ResolvedKeysFile } from './key-options.js'
import type { IssuerKeySource, KeySourceContext } from './key-sources.js'
import type { JwsAlgorithm } from './lib/jws-algorithms.js'
import { warningCode, type KeyFailure, type KeyStatus } from './lib/key-failure.js'
import { importMaterial } from './lib/key-material.js'
import { selectKey, type Keys } from './lib/key-set.js'
import {
  KeysFileError,
  readKeysFile,
  snapshot,
  statKeysFile,
  type KeysFilePolicy,
} from './lib/keys-file-read.js'

/** How long directory events must stop before the file is read, ms. */
export const SETTLE_MS = 100

interface KeysFileConfig extends KeySourceContext {
  readonly issuer: string
  readonly file: ResolvedKeysFile
  readonly algorithms: readonly Algorithm[]
}

export class FileKeySource implements IssuerKeySource {
  readonly #config: KeysFileConfig
  readonly #policy: KeysFilePolicy
  #keys: Keys | undefined
  #version = 0
  #installedAt: Date | undefined
  #lastFailure: KeyFailure | undefined
  /** The bytes the installed keys were read from. */
  #goodBytes: Buffer
  /** The last version examined, good or bad: its stamp (or failure) and bytes (when read). */
  #seenStamp: string
  #seenBytes: Buffer | undefined
  #loading: Promise<boolean> | undefined
  #checking: Promise<void> | undefined
  /** Checks asked for so far: one asked for while a check runs makes it run again after. */
  #requested = 0
  #lastOnDemand = Number.NEGATIVE_INFINITY
  #watcher: FSWatcher | undefined
  #settle: NodeJS.Timeout | undefined
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(config: KeysFileConfig) {
    this.#config = config
    this.#policy = {
      algorithms: config.algorithms,
      maxKeys: config.jwks.maxKeys,
      maxBytes: config.jwks.maxBytes,
    }
    const { initial } = config.file
    this.#goodBytes = initial.bytes
    this.#seenStamp = initial.stamp
    this.#seenBytes = initial.bytes
  }

  start(): void {
    void this.#load()
    this.#watch()
    if (this.#timer === undefined && !this.#closed) {
      this.#timer = setInterval(() => {
        this.#watch() // again, if watching failed or stopped
        void this.#check()
      }, this.#config.jwks.refreshInterval)
      this.#timer.unref()
    }
  }

  ready(): Promise<boolean> {
    return this.#load()
  }

  get version(): number {
    return this.#version
  }

  /** The last good keys serve until a good file replaces them. */
  get usable(): boolean {
    return this.#keys !== undefined
  }

  identityOf(kid: string): string | null | undefined {
    return this.#keys?.identities.get(kid)
  }

  current(): Keys | undefined {
    return this.#keys
  }

  /** Waits for the first import; on an unknown kid, checks the file (once per cooldown, shared). */
  async keysFor(alg: JwsAlgorithm, kid: unknown): Promise<Keys> {
    await this.#load()
    const keys = this.#keys
    if (keys === undefined) throw this.#config.reject('jwks_unavailable', { retryAfter: 1 })
    if (selectKey(keys, alg, kid) !== 'none') return keys
    const now = Date.now()
    if (this.#checking === undefined && now - this.#lastOnDemand < this.#config.jwks.cooldown) {
      return keys
    }
    this.#lastOnDemand = now
    await this.#check()
    return this.#keys ?? keys
  }

  status(): KeyStatus {
    return Object.freeze({
      issuer: this.#config.issuer,
      jwksUri: undefined,
      keysFile: this.#config.file.path,
      keys: this.#keys === undefined ? 0 : this.#keys.keys.length,
      fetchedAt: this.#installedAt,
      ...(this.#lastFailure === undefined ? {} : { lastFailure: this.#lastFailure }),
    })
  }

  close(): void {
    this.#closed = true
    this.#watcher?.close()
    this.#watcher = undefined
    clearTimeout(this.#settle)
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Imports the version read at construction, once. */
  #load(): Promise<boolean> {
    this.#loading ??= importMaterial(this.#config.file.initial.material, 1).then(
      (keys) => {
        this.#install(keys, this.#config.file.initial.bytes)
        return true
      },
      (err: unknown) => {
        this.#report(new KeysFileError('keys_file_invalid', describe(err)))
        return false
      },
    )
    return this.#loading
  }

  #watch(): void {
    if (this.#watcher !== undefined || this.#closed) return
    try {
      const watcher = watch(dirname(this.#config.file.path), { persistent: false }, () => {
        this.#changed()
      })
      watcher.on('error', () => {
        // The directory went away or the watch broke: the interval check carries on, and re-watches.
        watcher.close()
        if (this.#watcher === watcher) this.#watcher = undefined
      })
      this.#watcher = watcher
    } catch {
      // Watching is not available here (some network and container filesystems): the interval
      // check stands in.
    }
  }

  /** Any event in the directory: a rename, a symlink swap, a write. Read once it settled. */
  #changed(): void {
    if (this.#closed) return
    clearTimeout(this.#settle)
    this.#settle = setTimeout(() => void this.#check(), SETTLE_MS)
    this.#settle.unref()
  }

  /** One check at a time; a request for another while one runs makes it run again after. */
  #check(): Promise<void> {
    this.#requested++
    if (this.#checking !== undefined) return this.#checking
    this.#checking = (async () => {
      try {
        await this.#load() // the first version is installed before any later one
        let served: number
        do {
          served = this.#requested
          await this.#examine()
        } while (served !== this.#requested && !this.#closed)
      } finally {
        this.#checking = undefined
      }
    })()
    return this.#checking
  }

  /** Reads the file if it changed, and installs its keys if they are new and good. */
  async #examine(): Promise<void> {
    const { path } = this.#config.file
    let stamp: string
    let bytes: Buffer
    try {
      stamp = await statKeysFile(path, this.#policy)
      if (stamp === this.#seenStamp) return
      bytes = await readKeysFile(path, this.#policy)
    } catch (err) {
      this.#unusable(err)
      return
    }
    const examined = this.#seenBytes
    this.#seenStamp = stamp
    this.#seenBytes = bytes
    // Touched, or rewritten with the same contents: its outcome is known already.
    if (examined?.equals(bytes) === true) return
    if (bytes.equals(this.#goodBytes)) {
      // The installed version is back after a bad one: nothing to import, but a good read.
      this.#installedAt = new Date()
      return
    }
    let keys: Keys
    try {
      keys = await importMaterial(snapshot(stamp, bytes, this.#policy).material, this.#version + 1)
    } catch (err) {
      this.#report(
        err instanceof KeysFileError ? err : new KeysFileError('keys_file_invalid', describe(err)),
      )
      return
    }
    this.#install(keys, bytes)
  }

  /** A version that could not be read at all: reported once until the condition changes. */
  #unusable(err: unknown): void {
    const failure =
      err instanceof KeysFileError ? err : new KeysFileError('keys_file_unreadable', describe(err))
    const state = `!${failure.reason}:${failure.message}`
    if (state === this.#seenStamp) return
    this.#seenStamp = state
    this.#seenBytes = undefined
    this.#report(failure)
  }

  #install(keys: Keys, bytes: Buffer): void {
    this.#keys = keys
    this.#version = keys.version
    this.#goodBytes = bytes
    this.#installedAt = new Date()
  }

  #report(failure: KeysFileError): void {
    const { reason, message } = failure
    this.#lastFailure = Object.freeze({ reason, message, at: new Date() })
    this.#config.logger.error(
      {
        event: reason,
        code: warningCode(reason),
        reason,
        issuer: this.#config.issuer,
        keys_file: this.#config.file.path,
        error: message,
        serving_last_good_keys: this.#keys !== undefined,
      },
      reason === 'keys_file_invalid'
        ? 'svcauth: the key file holds no usable key set; keeping the last good keys'
        : 'svcauth: the key file cannot be read; keeping the last good keys',
    )
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : 'unknown error'
}
