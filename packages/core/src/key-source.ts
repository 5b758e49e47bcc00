/**
 * The JWKS resilience layer: one issuer's signing keys, fetched over HTTP and kept usable through
 * rotation and outages (keys given offline have their own sources: `key-sources.ts`).
 *
 * - Start-up fetch that never fails boot; requests wait for it (coalesced) when they arrive first.
 * - Unknown `kid`: one refetch per cooldown (default 5 s), shared by every concurrent request, so a
 *   key rotated in at the issuer is accepted within seconds and a storm of random kids costs one
 *   fetch per cooldown (catalogue G1, G9).
 * - Background refresh every `refreshInterval`, without making any request wait.
 * - A discovered `jwks_uri` is discovered again on the background refresh and after a failed key
 *   fetch (bounded by the cooldown like every fetch), so an issuer that moves its keys is
 *   followed without a restart (issue 14, R11; see `lib/discovered-address.ts`).
 * - Outage: the last good key set keeps serving up to `maxStale` after its fetch; past that, or
 *   with no keys at all, verification fails with 503 `temporarily_unavailable` and `Retry-After`.
 * - Byte cap, key-count cap, timeout, no redirects, no private keys (catalogue G3–G7, D10).
 * - Each installed set carries its keys imported once for `node:crypto` (`lib/verify-keys.ts`),
 *   so a verification with loaded keys is synchronous, and what every kid stands for (RFC 7638
 *   thumbprint and use restrictions), so the verified-token cache is tied to keys, not kids
 *   (issue 14, R6; issue 17).
 * - Each fetch attempt is published on `svcauth:jwks:fetch` when someone listens (`diagnostics.ts`).
 * - Every failure is classified (`lib/key-failure.ts`), logged with its `SVCAUTH_…` code, and
 *   kept as the issuer's `lastFailure` in {@link KeySource.status} (issue 16, items 1 and 2).
 */
import type { Dispatcher } from 'undici'
import { jwksFetchChannel, type JwksFetchEvent } from './diagnostics.js'
import type { AuthError, Reject } from './errors.js'
import type { ResolvedJwksOptions } from './jwks-options.js'
import { DiscoveredAddress } from './lib/discovered-address.js'
import { httpJson, type HttpLimits } from './lib/http.js'
import {
  asDiscoveryFailure,
  asKeySetFailure,
  keyFailure,
  warningCode,
  type KeyFailure,
  type KeyStatus,
} from './lib/key-failure.js'
import type { JwsAlgorithm } from './lib/jws-algorithms.js'
import { parseKeySet, selectKey, type Keys } from './lib/key-set.js'
import type { HttpAllowance } from './lib/urls.js'
import type { IssuerKeySource } from './key-sources.js'
import type { Logger } from './logger.js'

export type { KeyFailure, KeyFailureReason, KeyStatus } from './lib/key-failure.js'

interface KeySourceConfig {
  readonly issuer: string
  readonly jwksUri: string | undefined
  readonly jwks: ResolvedJwksOptions
  readonly allowInsecureHttp: HttpAllowance
  readonly dispatcher: Dispatcher | undefined
  readonly logger: Logger
  /** Makes the verifier's errors, in its realm. */
  readonly reject: Reject
}

export class KeySource implements IssuerKeySource {
  readonly #config: KeySourceConfig
  #keys: Keys | undefined
  #version = 0
  readonly #address: DiscoveredAddress
  #lastSuccess = Number.NEGATIVE_INFINITY
  #lastAttempt = Number.NEGATIVE_INFINITY
  #pending: Promise<boolean> | undefined
  #timer: NodeJS.Timeout | undefined
  #failures = 0
  #keyCount = 0
  #lastFailure: KeyFailure | undefined

  constructor(config: KeySourceConfig) {
    this.#config = config
    // No cooldown of its own: every discovery happens inside a key fetch, which has one.
    this.#address = new DiscoveredAddress({
      issuer: config.issuer,
      member: 'jwks_uri',
      configured: config.jwksUri,
      allowInsecureHttp: config.allowInsecureHttp,
      cooldown: 0,
      maxBytes: config.jwks.maxBytes,
    })
  }

  /** Starts the first fetch and the background refresh; never throws. */
  start(): void {
    void this.#refresh()
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#refresh(true), this.#config.jwks.refreshInterval)
      this.#timer.unref()
    }
  }

  /**
   * Resolves true when usable keys are held, after waiting for a fetch in flight (or starting one
   * if the cooldown allows); never fetches more often than the cooldown.
   */
  async ready(): Promise<boolean> {
    if (this.usable) return true
    if (this.#pending !== undefined) await this.#pending
    else if (this.#cooledDown()) await this.#refresh()
    return this.usable
  }

  /** True while a key set is held and is younger than `maxStale`. */
  get usable(): boolean {
    return this.#keys !== undefined && Date.now() - this.#lastSuccess <= this.#config.jwks.maxStale
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** This issuer's key state now; allocates only when called. */
  status(): KeyStatus {
    const fetched = this.#keys === undefined ? undefined : new Date(this.#lastSuccess)
    return Object.freeze({
      issuer: this.#config.issuer,
      jwksUri: this.#address.current,
      keys: this.#keys === undefined ? 0 : this.#keyCount,
      fetchedAt: fetched,
      ...(this.#lastFailure === undefined ? {} : { lastFailure: this.#lastFailure }),
    })
  }

  /** Increases whenever a new key set is installed. */
  get version(): number {
    return this.#version
  }

  /**
   * The identity (RFC 7638 thumbprint and use restrictions) of the key published under `kid` now;
   * `null` when the kid names no single key, `undefined` when it is not published.
   */
  identityOf(kid: string): string | null | undefined {
    return this.#keys?.identities.get(kid)
  }

  /**
   * The installed key set when it is usable now, starting a background refresh when one is due:
   * the synchronous path every verification takes once keys are loaded (no promise, no fetch).
   */
  current(): Keys | undefined {
    return this.#currentKeys()
  }

  /**
   * The slow path, taken when {@link current} holds no single key for `alg` and `kid`: waits for
   * keys (before the first fetch settled, or past the hard limit), refetches once per cooldown on
   * an unknown kid (a key rotated in at the issuer), then resolves the set to select in (the
   * verifier answers `key_not_found` or `jwks_ambiguous` from it). Rejects with `jwks_unavailable`.
   */
  async keysFor(alg: JwsAlgorithm, kid: unknown): Promise<Keys> {
    const keys = await this.#usableKeys()
    // Unknown kid: maybe a key rotated in at the issuer. One refetch per cooldown, shared.
    if (
      selectKey(keys, alg, kid) === 'none' &&
      (this.#pending !== undefined || this.#cooledDown())
    ) {
      const ok = await (this.#pending ?? this.#refresh())
      if (!ok || this.#keys === undefined) throw this.#unavailable()
      return this.#keys
    }
    return keys
  }

  /** The key set when it is usable now (starting a background refresh when one is due). */
  #currentKeys(): Keys | undefined {
    const keys = this.#keys
    // `usable`, with the clock read once: this runs for every verification.
    const age = Date.now() - this.#lastSuccess
    if (keys === undefined || age > this.#config.jwks.maxStale) return undefined
    if (
      age > this.#config.jwks.refreshInterval &&
      this.#pending === undefined &&
      this.#cooledDown()
    ) {
      void this.#refresh(true)
    }
    return keys
  }

  async #usableKeys(): Promise<Keys> {
    const keys = this.#currentKeys()
    if (keys !== undefined) return keys
    // No keys, or keys past the hard limit: wait for a fetch, if one may be made.
    if (this.#pending !== undefined || this.#cooledDown()) await (this.#pending ?? this.#refresh())
    if (this.#keys !== undefined && this.usable) return this.#keys
    throw this.#unavailable()
  }

  #cooledDown(): boolean {
    return Date.now() - this.#lastAttempt >= this.#config.jwks.cooldown
  }

  #unavailable(): AuthError {
    const wait = this.#lastAttempt + this.#config.jwks.cooldown - Date.now()
    return this.#config.reject('jwks_unavailable', { retryAfter: Math.max(1, wait / 1000) })
  }

  /**
   * One fetch at a time; resolves true when a new key set was installed. `background`: the
   * periodic refresh, which also discovers the JWKS address again first.
   */
  #refresh(background = false): Promise<boolean> {
    if (this.#pending !== undefined) return this.#pending
    this.#lastAttempt = Date.now()
    const pending = this.#fetch(background).then(
      () => {
        this.#failures = 0
        this.#publish('ok')
        return true
      },
      (err: unknown) => {
        this.#failures++
        this.#logFailure(err)
        this.#publish('error')
        return false
      },
    )
    this.#pending = pending.finally(() => {
      this.#pending = undefined
    })
    return this.#pending
  }

  async #fetch(background: boolean): Promise<void> {
    const { jwks, dispatcher } = this.#config
    const limits = { timeout: jwks.timeout, maxBytes: jwks.maxBytes, dispatcher }
    const address = this.#address
    const known = address.current !== undefined
    if (background && known) await this.#rediscover(limits)
    try {
      await this.#load(await this.#addressToFetch(limits), limits)
    } catch (err) {
      // The issuer may have moved its keys: look again (once per attempt, so once per cooldown),
      // and try the new address if there is one. Not when discovery just ran in this attempt.
      if (background || !known || !(await this.#rediscover(limits))) throw err
      await this.#load(await this.#addressToFetch(limits), limits)
    }
  }

  /** The address to fetch; a failure to discover it is a discovery failure, not a fetch one. */
  #addressToFetch(limits: HttpLimits): Promise<string> {
    return this.#address.get(limits).catch((err: unknown) => {
      throw asDiscoveryFailure(err)
    })
  }

  /**
   * Discovers a discovered address again; true when it moved. Never rejects: a failure is logged
   * and the last good address stays.
   */
  async #rediscover(limits: HttpLimits): Promise<boolean> {
    const { issuer, logger } = this.#config
    const before = this.#address.current
    if (before === undefined) return false
    const found = await this.#address.moved(before, limits, (err) => {
      const failure = keyFailure(asDiscoveryFailure(err))
      this.#lastFailure = failure
      logger.error(
        {
          event: 'jwks_discovery_failed',
          code: warningCode(failure.reason),
          issuer,
          jwks_uri: before,
          error: failure.message,
        },
        'svcauth: discovering the issuer metadata again failed; keeping the last good jwks_uri',
      )
    })
    if (found === undefined) return false
    logger.warn(
      { event: 'jwks_uri_changed', issuer, from: before, to: found },
      'svcauth: the issuer publishes its keys at a new address',
    )
    return true
  }

  async #load(jwksUri: string, limits: HttpLimits): Promise<void> {
    const accept = 'application/jwk-set+json, application/json'
    const body = await httpJson(jwksUri, { headers: { accept } }, limits).catch((err: unknown) => {
      throw asKeySetFailure(err) // a body that is not JSON is an unusable key set
    })
    const { keys, identities } = await parseKeySet(body, this.#config.jwks.maxKeys)
    this.#keyCount = keys.length
    this.#keys = { keys, identities, version: ++this.#version, byAlg: new Map(), anyKid: false }
    this.#lastSuccess = Date.now()
  }

  #publish(result: JwksFetchEvent['result']): void {
    if (!jwksFetchChannel.hasSubscribers) return
    const last = this.#lastSuccess
    const event: JwksFetchEvent = {
      issuer: this.#config.issuer,
      result,
      lastSuccess: Number.isFinite(last) ? last : undefined,
    }
    jwksFetchChannel.publish(event)
  }

  #logFailure(err: unknown): void {
    const stale = this.#keys !== undefined
    const failure = keyFailure(err)
    this.#lastFailure = failure
    // Rate-limited by construction: at most one attempt per cooldown reaches this line.
    this.#config.logger.error(
      {
        event: 'jwks_fetch_failed',
        code: warningCode(failure.reason),
        reason: failure.reason,
        issuer: this.#config.issuer,
        jwks_uri: this.#address.current,
        error: failure.message,
        consecutive_failures: this.#failures,
        serving_last_good_keys: stale,
      },
      'svcauth: fetching the issuer key set failed',
    )
  }
}
