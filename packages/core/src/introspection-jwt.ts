/**
 * Instant revocation for JWTs (issue 20, item 3): with `introspection.jwt`, a JWT of the
 * introspecting issuer that passed every local check (signature, claims, `isRevoked`, a DPoP
 * proof or certificate binding) is also asked about at the issuer's RFC 7662 endpoint, so that a
 * revocation at the authorization server is seen at once rather than at `exp` (RFC 7009 §2:
 * revocation is the server's; a self-contained token cannot say it happened). The JWT's own
 * verified claims decide everything else: the answer only says whether the token is still active.
 *
 * - `active: false` → 401 `token_inactive`, as for an opaque token. The refusal is kept (by token
 *   hash, in its own bound `maxCachedInactive`) for `cacheTtl` and never past `exp`, and it
 *   removes any reusable active answer, so a revoked token does not come back.
 * - `active: true` → the locally built Principal. `'always'` keeps nothing; `{ maxAge }` reuses
 *   the answer for up to `maxAge` seconds from when the call was sent, never past `exp`, in a
 *   bound of `maxCached`.
 * - An answer that names another `iss` or `sub` than the token is not an answer about it: like no
 *   answer, a timeout, a 5xx or a malformed body, 503 `introspection_unavailable` with
 *   `Retry-After`, logged and never cached (`introspection-endpoint.ts`).
 *
 * Concurrent checks of one token share one call, keyed by a SHA-256 of the token, never the token.
 * Deadlines are epoch milliseconds read from `Date.now()`, as in the verified-token cache.
 */
import { LRUCache } from 'lru-cache'
import { isAuthError, type AuthErrorReason, type Reject } from './errors.js'
import { tokenKey, type AnswerCheck, type IntrospectionEndpoint } from './introspection-endpoint.js'
import type { JwtIntrospection, ResolvedIntrospection } from './introspection-options.js'
import type { Principal } from './principal.js'

export interface JwtIntrospectorConfig {
  /** The introspecting issuer: only its JWTs are asked about. */
  readonly issuer: string
  readonly mode: JwtIntrospection
  /** `cacheTtl` (how long a refusal is kept), `maxCached`, `maxCachedInactive`. */
  readonly options: ResolvedIntrospection
  /** Seconds past `exp` a token is still accepted (the verifier's `clockTolerance`). */
  readonly clockTolerance: number
  readonly endpoint: IntrospectionEndpoint
  /** Makes the verifier's errors, in its realm. */
  readonly reject: Reject
}

/** What one call decided: active, or the reason to refuse (with an outage's cause). */
type Outcome = 'active' | { readonly reason: AuthErrorReason; readonly cause?: unknown }

const INACTIVE: Outcome = Object.freeze({ reason: 'token_inactive' })

/** True while `cache` holds a deadline for `key` that has not passed; drops a passed one. */
function holds(cache: LRUCache<string, number>, key: string, now: number): boolean {
  const until = cache.get(key)
  if (until === undefined) return false
  if (until > now) return true
  cache.delete(key)
  return false
}

/**
 * Decision: an active answer that names an issuer or subject (when both sides have one) other
 * than the verified token's is about another token (a misrouted endpoint, another authorization
 * server's): it says nothing about this one, so it is refused as an outage, not believed.
 */
function about(principal: Principal): AnswerCheck {
  return (answer) => {
    if (!answer.active) return undefined
    if (answer.iss !== undefined && answer.iss !== principal.issuer) {
      return 'introspection answer for a JWT names another issuer'
    }
    if (answer.sub !== undefined && principal.sub !== undefined && answer.sub !== principal.sub) {
      return 'introspection answer for a JWT names another subject'
    }
    return undefined
  }
}

export class JwtIntrospector {
  readonly #config: JwtIntrospectorConfig
  /** How long an active answer is reused, ms; 0 for `'always'`. */
  readonly #maxAge: number
  /** Active answers' reuse deadlines (`{ maxAge }` only). */
  readonly #active: LRUCache<string, number> | undefined
  /** Inactive answers' deadlines, in their own bound. */
  readonly #inactive: LRUCache<string, number>
  readonly #flights = new Map<string, Promise<Outcome>>()

  constructor(config: JwtIntrospectorConfig) {
    this.#config = config
    this.#maxAge = config.mode === 'always' ? 0 : config.mode.maxAge * 1000
    this.#active = this.#maxAge === 0 ? undefined : new LRUCache({ max: config.options.maxCached })
    this.#inactive = new LRUCache({ max: config.options.maxCachedInactive })
  }

  /** The issuer whose JWTs are asked about. */
  get issuer(): string {
    return this.#config.issuer
  }

  /**
   * Resolves when the authorization server says the (locally verified) JWT is active; rejects
   * with `token_inactive` when it says not, `introspection_unavailable` when it says nothing.
   */
  async check(token: string, principal: Principal): Promise<void> {
    const key = tokenKey(token)
    const now = Date.now()
    if (holds(this.#inactive, key, now)) throw this.#config.reject('token_inactive')
    if (this.#active !== undefined && holds(this.#active, key, now)) return
    let flight = this.#flights.get(key)
    if (flight === undefined) {
      flight = this.#ask(key, token, principal).finally(() => this.#flights.delete(key))
      this.#flights.set(key, flight)
    }
    const outcome = await flight
    if (outcome === 'active') return
    // Made per waiter: coalesced requests each get their own error.
    throw this.#config.reject(
      outcome.reason,
      outcome.cause === undefined ? undefined : { cause: outcome.cause },
    )
  }

  clear(): void {
    this.#active?.clear()
    this.#inactive.clear()
  }

  async #ask(key: string, token: string, principal: Principal): Promise<Outcome> {
    const { endpoint, options, clockTolerance } = this.#config
    // Reuse is counted from when the question was sent: the answer is no newer than that.
    const asked = Date.now()
    let active: boolean
    try {
      active = (await endpoint.ask(token, 'jwt', about(principal))).active
    } catch (err) {
      if (!isAuthError(err)) throw err
      return { reason: err.reason, cause: err.cause }
    }
    const exp = principal.expiresAt.getTime()
    if (!active) {
      this.#active?.delete(key)
      const until = Math.min(Date.now() + options.cacheTtl * 1000, exp + clockTolerance * 1000)
      if (options.cacheTtl > 0 && until > Date.now()) this.#inactive.set(key, until)
      return INACTIVE
    }
    if (this.#active !== undefined) {
      const until = Math.min(asked + this.#maxAge, exp)
      if (until > Date.now()) {
        this.#inactive.delete(key)
        this.#active.set(key, until)
      }
    }
    return 'active'
  }
}
