/**
 * TLS material that may change while the service runs: a certificate and key, or CAs, read from
 * files that something else renews (step-ca's `step ca renew --daemon` rewrites a short-lived
 * certificate long before it expires; Kubernetes swaps a mounted secret's files). The files are
 * checked for changes
 * - when their directory reports one (`fs.watch` on each directory, so a file replaced by rename
 *   or a symlink swap is seen too), and
 * - on use, at most once a second (the material is read before every connection's TLS options
 *   are chosen), for file systems whose events do not arrive (NFS, some container mounts);
 * and a change is read after a short pause (`SETTLE_MS`), so that a certificate and its key
 * written one after the other are read together. The new files are checked as at start-up; when
 * they fail (unreadable, a key that is not the certificate's, half-written PEM), the current
 * material stays in use and one error is reported per state of the files, never the material.
 * Inline PEM is `Fixed`: it never changes.
 */
import { statSync, watch, type FSWatcher, type Stats } from 'node:fs'
import { stat } from 'node:fs/promises'
import { dirname } from 'node:path'

/** TLS material and its version, which grows by one at every change. */
export interface Versioned<T> {
  /** The current material; starts a check of the files when one is due. */
  current(): T
  readonly version: number
  close(): void
}

/** What a watched source reports. */
export interface SourceEvents<T> {
  changed(previous: T, next: T): void
  /** The files changed but could not be used; `err`'s message names them, never their content. */
  failed(err: unknown): void
}

/** How long a change settles before the files are read, ms. */
export const SETTLE_MS = 150
/** The least time between two checks made on use, ms. */
export const POLL_MS = 1000

/** Material given inline. */
export class Fixed<T> implements Versioned<T> {
  readonly version = 0
  readonly #value: T
  constructor(value: T) {
    this.#value = value
  }
  current(): T {
    return this.#value
  }
  close(): void {
    // Nothing to stop.
  }
}

/**
 * Material read from `files` by `load`, which reads them, answers `current` itself when their
 * content has not changed, and throws when they are not usable.
 */
export class Watched<T> implements Versioned<T> {
  readonly #files: readonly string[]
  readonly #load: (current: T) => Promise<T>
  readonly #events: SourceEvents<T>
  readonly #watchers: FSWatcher[] = []
  #value: T
  #version = 0
  /** The stat signature of the files last read, and of the last state that failed. */
  #signature: string
  #failed: string | undefined
  #lastCheck = performance.now()
  #checking: Promise<void> | undefined
  /** A change was reported while a check was under way. */
  #again = false
  #closed = false

  constructor(
    files: readonly string[],
    initial: T,
    load: (current: T) => Promise<T>,
    events: SourceEvents<T>,
  ) {
    this.#files = files
    this.#value = initial
    this.#load = load
    this.#events = events
    // The files were read at construction, just before: a change from now on is a new state.
    this.#signature = signatureOf(files.map((f) => statSync(f)))
    for (const dir of new Set(files.map((f) => dirname(f)))) this.#watch(dir)
  }

  get version(): number {
    return this.#version
  }

  current(): T {
    if (performance.now() - this.#lastCheck >= POLL_MS) this.#start()
    return this.#value
  }

  close(): void {
    this.#closed = true
    for (const watcher of this.#watchers.splice(0)) watcher.close()
  }

  /** Starts a check, or asks for another one after the check under way. */
  #start(): void {
    if (this.#checking !== undefined) {
      this.#again = true
      return
    }
    this.#checking = this.#check().finally(() => {
      this.#checking = undefined
      if (this.#again && !this.#closed) {
        this.#again = false
        this.#start()
      }
    })
  }

  #watch(dir: string): void {
    try {
      // Any change in the directory: a rename or a symlink swap names another file than ours.
      const watcher = watch(dir, { persistent: false }, () => {
        if (!this.#closed) this.#start()
      })
      watcher.on('error', () => {
        // A directory that went away: the checks on use remain.
        watcher.close()
      })
      this.#watchers.push(watcher)
    } catch {
      // No events here (inotify limits, a file system without them): the checks on use remain.
    }
  }

  async #check(): Promise<void> {
    this.#lastCheck = performance.now()
    let signature: string
    try {
      signature = await this.#stat()
    } catch (err) {
      signature = `missing:${String((err as { code?: unknown }).code)}`
    }
    if (this.#stopped() || signature === this.#signature || signature === this.#failed) return
    // The files changed: let a writer finish the other one before reading both.
    await pause(SETTLE_MS)
    if (this.#stopped()) return
    try {
      const settled = await this.#stat()
      const next = await this.#load(this.#value)
      if (this.#stopped()) return
      this.#signature = settled
      this.#failed = undefined
      if (next === this.#value) return
      const previous = this.#value
      this.#value = next
      this.#version++
      this.#events.changed(previous, next)
    } catch (err) {
      if (this.#stopped() || signature === this.#failed) return
      this.#failed = signature
      this.#events.failed(err)
    }
  }

  /** Read through a call: `close()` may have run during any await. */
  #stopped(): boolean {
    return this.#closed
  }

  async #stat(): Promise<string> {
    return signatureOf(await Promise.all(this.#files.map((f) => stat(f))))
  }
}

/** What tells one state of the files from another without reading them. */
function signatureOf(stats: readonly Stats[]): string {
  return stats.map((s) => `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`).join('|')
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
