/**
 * Client secret rotation. The secret may be a string, `[current, previous]`, or a provider (for
 * example one that re-reads a mounted Kubernetes secret file). On `invalid_client` the other
 * secrets are tried, then the provider is re-read once and any new secret tried; the secret that
 * worked is tried first next time. Hydra v2 keeps one secret per client and a change takes effect
 * at once, so holding `[new, old]` during a rotation is what keeps calls succeeding.
 */
import { TokenEndpointError } from './errors.js'
import type { SecretSource } from './options.js'

export class SecretRing {
  readonly #source: SecretSource
  #secrets: readonly string[] | undefined
  #preferred: string | undefined

  constructor(source: SecretSource) {
    if (typeof source !== 'function') check(source)
    this.#source = source
  }

  /** Runs `send` with a secret, rotating through the others on `invalid_client`. */
  async attempt<T>(send: (secret: string) => Promise<T>): Promise<T> {
    const tried = new Set<string>()
    let last: TokenEndpointError | undefined
    for (const reload of [false, true]) {
      if (reload && typeof this.#source !== 'function') break
      const secrets = await this.#load(reload)
      const ordered =
        this.#preferred !== undefined && secrets.includes(this.#preferred)
          ? [this.#preferred, ...secrets.filter((s) => s !== this.#preferred)]
          : secrets
      for (const secret of ordered) {
        if (tried.has(secret)) continue
        tried.add(secret)
        try {
          const result = await send(secret)
          this.#preferred = secret
          return result
        } catch (err) {
          if (!(err instanceof TokenEndpointError) || err.error !== 'invalid_client') throw err
          last = err
        }
      }
    }
    throw last ?? new TokenEndpointError('invalid_client')
  }

  async #load(reload: boolean): Promise<readonly string[]> {
    if (this.#secrets !== undefined && !reload) return this.#secrets
    const source = this.#source
    const value = typeof source === 'function' ? await source() : source
    this.#secrets = check(value)
    return this.#secrets
  }
}

function check(value: unknown): readonly string[] {
  const list = typeof value === 'string' ? [value] : value
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((s) => typeof s === 'string' && s !== '')
  ) {
    throw new TypeError('svcauth client: clientSecret must be a non-empty string or a list of them')
  }
  return Object.freeze([...(list as string[])])
}
