/**
 * An issuer's keys given inline (`keys`, issue 20, item 1): a JWKS object, a public JWK or PEM,
 * checked at construction (`key-options.ts`), imported by jose once at start (`ready()` waits for
 * it), then installed for good. No network call is ever made for them: no discovery, no JWKS
 * fetch. They never go stale (`jwks.maxStale` does not apply) and never change, so an unknown kid
 * is `key_not_found` at once and the verified-token cache never drops an entry for a key change.
 */
import type { IssuerKeySource, KeySourceContext } from './key-sources.js'
import { keyFailure, warningCode, type KeyFailure, type KeyStatus } from './lib/key-failure.js'
import { importMaterial, type KeyMaterial } from './lib/key-material.js'
import type { Keys } from './lib/key-set.js'

interface StaticKeysConfig extends KeySourceContext {
  readonly issuer: string
  readonly material: KeyMaterial
}

export class StaticKeySource implements IssuerKeySource {
  readonly #config: StaticKeysConfig
  #keys: Keys | undefined
  #loading: Promise<boolean> | undefined
  #installedAt: Date | undefined
  #lastFailure: KeyFailure | undefined

  constructor(config: StaticKeysConfig) {
    this.#config = config
  }

  start(): void {
    void this.#load()
  }

  ready(): Promise<boolean> {
    return this.#load()
  }

  /** The one key set there will ever be; version 1. */
  get version(): number {
    return 1
  }

  get usable(): boolean {
    return this.#keys !== undefined
  }

  identityOf(kid: string): string | null | undefined {
    return this.#keys?.identities.get(kid)
  }

  current(): Keys | undefined {
    return this.#keys
  }

  /** Waits for the import; nothing new can appear, so an unknown kid is not looked for. */
  async keysFor(): Promise<Keys> {
    await this.#load()
    if (this.#keys === undefined) throw this.#config.reject('jwks_unavailable', { retryAfter: 1 })
    return this.#keys
  }

  status(): KeyStatus {
    return Object.freeze({
      issuer: this.#config.issuer,
      jwksUri: undefined,
      keys: this.#keys === undefined ? 0 : this.#keys.keys.length,
      fetchedAt: this.#installedAt,
      ...(this.#lastFailure === undefined ? {} : { lastFailure: this.#lastFailure }),
    })
  }

  close(): void {
    // Nothing runs in the background.
  }

  #load(): Promise<boolean> {
    this.#loading ??= importMaterial(this.#config.material, 1).then(
      (keys) => {
        this.#keys = keys
        this.#installedAt = new Date()
        return true
      },
      (err: unknown) => {
        // Checked at construction, so only an import jose itself refuses wholesale lands here.
        const failure = keyFailure(err)
        this.#lastFailure = Object.freeze({ ...failure, reason: 'jwks_invalid' as const })
        this.#config.logger.error(
          {
            event: 'jwks_invalid',
            code: warningCode('jwks_invalid'),
            reason: 'jwks_invalid',
            issuer: this.#config.issuer,
            error: failure.message,
          },
          'svcauth: importing the configured keys failed',
        )
        return false
      },
    )
    return this.#loading
  }
}
