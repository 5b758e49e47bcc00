/**
 * Opaque tokens by RFC 7662 introspection (Hydra's default `ory_at_…` tokens, introspected at
 * `{admin}/admin/oauth2/introspect`; oidc-provider's `/token/introspection`). The answer is held
 * to the same rules as a JWT's claims (issuer, audience, lifetime, types, `cnf`) and becomes the
 * same Principal. Results are cached by a SHA-256 of the token (never the token itself) until
 * min(`exp`, `cacheTtl`); an inactive answer is cached too (a revoked or expired token does not
 * come back), in its own smaller LRU, so junk tokens cannot evict valid answers (issue 14, R7);
 * concurrent lookups of one token share one request. The call itself, its failures (503
 * `temporarily_unavailable`, never cached), rediscovery and the published event are
 * `introspection-endpoint.ts`; the issuer's JWTs, when they are introspected too, are
 * `introspection-jwt.ts` (issue 20, item 3). {@link createIntrospection} builds the three for the
 * one introspecting issuer.
 */
import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { checkClaims, type ClaimPolicy } from './claims.js'
import { isAuthError, type AuthErrorReason, type Reject } from './errors.js'
import {
  IntrospectionEndpoint,
  tokenKey,
  type IntrospectionAnswer,
  type IntrospectionStatus,
} from './introspection-endpoint.js'
import { JwtIntrospector } from './introspection-jwt.js'
import type { ResolvedIntrospection } from './introspection-options.js'
import type { ResolvedIssuer } from './issuer-options.js'
import type { ResolvedOptions } from './options.js'
import { buildPrincipal, type ActorTypeRule, type Principal } from './principal.js'
import type { SharedCache } from './stores.js'

export type { IntrospectionStatus } from './introspection-endpoint.js'

export interface IntrospectorConfig {
  readonly issuer: string
  readonly audience: readonly string[] | false
  readonly options: ResolvedIntrospection
  readonly policy: ClaimPolicy
  readonly actorType: ActorTypeRule | undefined
  readonly endpoint: IntrospectionEndpoint
  /** Makes the verifier's errors, in its realm. */
  readonly reject: Reject
  /**
   * The fleet's shared cache of answers (`stores.introspection`, issue 21): the raw RFC 7662
   * answers, so each replica judges them under its own policy.
   */
  readonly shared?: SharedCache | undefined
}

/** A refusal, kept as its reason (and, for an outage, its cause) until it is thrown. */
interface Refusal {
  readonly reason: AuthErrorReason
  readonly cause?: unknown
}

type Result = Principal | Refusal

const EXPIRED: Refusal = Object.freeze({ reason: 'expired' })

function isRefusal(result: Result): result is Refusal {
  return (result as Partial<Refusal>).reason !== undefined
}

/** A compact JWS has exactly three dot-separated parts; anything else is opaque. */
export function isOpaque(token: string): boolean {
  const first = token.indexOf('.')
  const second = first === -1 ? -1 : token.indexOf('.', first + 1)
  return second === -1 || token.includes('.', second + 1)
}

/** The introspecting issuer's parts: its endpoint, its opaque tokens and, with `jwt`, its JWTs. */
export interface Introspection {
  /** The issuer whose tokens these are. */
  readonly issuer: string
  readonly opaque: Introspector
  /** Set when the issuer's JWTs are introspected too (`introspection.jwt`). */
  readonly jwt: JwtIntrospector | undefined
  /** The endpoint's state, for `authenticator.status()`: opaque and JWT calls alike. */
  status(): IntrospectionStatus
  clear(): void
}

/** The introspection of `config`, the one issuer that has it, under the verifier's options. */
export function createIntrospection(
  config: ResolvedIssuer & { readonly introspection: ResolvedIntrospection },
  resolved: ResolvedOptions,
  reject: Reject,
): Introspection {
  const options = config.introspection
  const endpoint = new IntrospectionEndpoint({
    issuer: config.issuer,
    options,
    allowInsecureHttp: resolved.allowInsecureHttp,
    discoveryCooldown: resolved.jwks.cooldown,
    dispatcher: resolved.dispatcher,
    logger: resolved.logger,
    reject,
  })
  const opaque = new Introspector({
    issuer: config.issuer,
    audience: config.audience,
    options,
    policy: resolved,
    actorType: resolved.actorType,
    endpoint,
    reject,
    shared: resolved.stores.introspection,
  })
  const jwt =
    options.jwt === undefined
      ? undefined
      : new JwtIntrospector({
          issuer: config.issuer,
          mode: options.jwt,
          options,
          clockTolerance: resolved.clockTolerance,
          endpoint,
          reject,
        })
  return Object.freeze({
    issuer: config.issuer,
    opaque,
    jwt,
    status: () => endpoint.status(),
    clear(): void {
      opaque.clear()
      jwt?.clear()
    },
  })
}

export class Introspector {
  readonly #config: IntrospectorConfig
  /** Active answers. */
  readonly #accepted: LRUCache<string, Principal>
  /** Refusals, in their own smaller bound: junk tokens only ever evict each other. */
  readonly #refused: LRUCache<string, Refusal>
  readonly #flights = new Map<string, Promise<Result>>()

  constructor(config: IntrospectorConfig) {
    this.#config = config
    this.#accepted = new LRUCache({ max: config.options.maxCached })
    this.#refused = new LRUCache({ max: config.options.maxCachedInactive })
  }

  /** The Principal for an opaque token, or an AuthError rejection. */
  async principal(token: string): Promise<Principal> {
    const key = tokenKey(token)
    const now = Math.floor(Date.now() / 1000)
    let result: Result | undefined = this.#accepted.get(key) ?? this.#refused.get(key)
    if (result === undefined) {
      let flight = this.#flights.get(key)
      if (flight === undefined) {
        flight = this.#lookup(key, token).finally(() => this.#flights.delete(key))
        this.#flights.set(key, flight)
      }
      result = await flight
    } else if (
      !isRefusal(result) &&
      result.expiresAt.getTime() / 1000 <= now - this.#config.policy.clockTolerance
    ) {
      this.#accepted.delete(key)
      result = EXPIRED
    }
    if (isRefusal(result)) {
      throw this.#config.reject(
        result.reason,
        result.cause === undefined ? undefined : { cause: result.cause },
      )
    }
    return result
  }

  clear(): void {
    this.#accepted.clear()
    this.#refused.clear()
  }

  async #lookup(key: string, token: string): Promise<Result> {
    const { options, endpoint, shared } = this.#config
    const sharedKey = shared === undefined ? undefined : this.#sharedKey(token)
    let answer: IntrospectionAnswer | undefined
    let askedAt = Date.now()
    if (shared !== undefined && sharedKey !== undefined) {
      const held = await sharedAnswer(shared, sharedKey)
      if (held !== undefined) ({ answer, askedAt } = held)
    }
    if (answer === undefined) {
      try {
        answer = await endpoint.ask(token, 'opaque')
      } catch (err) {
        // No usable answer (already logged and published): a 503, never cached.
        if (!isAuthError(err)) throw err
        return { reason: err.reason, cause: err.cause }
      }
      askedAt = Date.now()
      // Written before the request is answered, so the caller's next request to another
      // replica finds it (the store's own timeout bounds the wait).
      if (sharedKey !== undefined) await this.#share(sharedKey, answer, askedAt)
    }
    const now = Math.floor(Date.now() / 1000)
    // An answer another replica fetched is reused for what is left of `cacheTtl` only.
    const cacheTtl = options.cacheTtl - (Date.now() - askedAt) / 1000
    let result: Result
    try {
      result = this.#principalFrom(answer, token, now)
    } catch (err) {
      if (!isAuthError(err)) throw err
      result = { reason: err.reason }
    }
    if (isRefusal(result)) {
      if (cacheTtl > 0) {
        this.#accepted.delete(key)
        this.#refused.set(key, result, { ttl: Math.ceil(cacheTtl * 1000) })
      }
    } else {
      const ttl = Math.min(cacheTtl, result.expiresAt.getTime() / 1000 - now)
      if (ttl > 0) {
        this.#refused.delete(key)
        this.#accepted.set(key, result, { ttl: Math.ceil(ttl * 1000) })
      }
    }
    return result
  }

  /**
   * The shared key of a token's answer: a SHA-256 over the issuer, the introspecting client and
   * the token (an answer may depend on who asks), never the token itself.
   */
  #sharedKey(token: string): string {
    const { issuer, options } = this.#config
    const hash = createHash('sha256')
      .update(`${issuer}\0${options.clientId ?? ''}\0`)
      .update(token)
      .digest('base64url')
    return `introspection:${hash}`
  }

  /** Shares an answer for `cacheTtl` (never past the token's `exp`); a failure only costs reuse. */
  async #share(key: string, answer: IntrospectionAnswer, askedAt: number): Promise<void> {
    const { options, shared } = this.#config
    let ttl = options.cacheTtl * 1000
    if (answer.active && typeof answer.exp === 'number') {
      ttl = Math.min(ttl, answer.exp * 1000 - askedAt)
    }
    if (shared === undefined || ttl <= 0) return
    try {
      await shared.set(key, JSON.stringify({ answer, askedAt }), Math.ceil(ttl))
    } catch {
      // Not shared this time: the next replica asks the endpoint.
    }
  }

  /** RFC 7662 §2.2 answer → Principal, under the same rules as a JWT's claims. */
  #principalFrom(answer: IntrospectionAnswer, token: string, now: number): Principal {
    const { issuer, audience, options, policy, reject } = this.#config
    if (!answer.active) throw reject('token_inactive')
    // Hydra says what the token is (`token_use`); a refresh token is active too, but not a credential.
    if (answer.token_use !== undefined && answer.token_use !== 'access_token') {
      throw reject('typ_invalid')
    }
    if (answer.token_type !== undefined) {
      const type = typeof answer.token_type === 'string' ? answer.token_type.toLowerCase() : ''
      // A DPoP token is accepted where DPoP is on, and must then carry its key (`cnf.jkt`).
      if (type === 'dpop' && (policy.dpop === undefined || answer.cnf === undefined)) {
        throw reject('sender_constrained')
      }
      if (type !== 'bearer' && type !== 'dpop') throw reject('typ_invalid')
    } else if (answer.token_use === undefined && options.requireTokenType) {
      throw reject('typ_invalid')
    }
    const claims: Record<string, unknown> = {}
    for (const name of Object.keys(answer)) claims[name] = answer[name]
    if (claims.iss === undefined) claims.iss = issuer
    else if (claims.iss !== issuer) throw reject('iss_invalid')
    if (audience !== false) {
      const aud = claims.aud
      const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : []
      if (!list.some((a) => typeof a === 'string' && audience.includes(a))) {
        throw reject('aud_invalid')
      }
    }
    const tolerance = policy.clockTolerance
    if (claims.exp === undefined) {
      // RFC 7662 makes `exp` optional: such an answer is trusted for `cacheTtl` only.
      claims.exp = now + options.cacheTtl
    } else if (typeof claims.exp === 'number' && claims.exp <= now - tolerance) {
      throw reject('expired')
    }
    if (typeof claims.nbf === 'number' && claims.nbf > now + tolerance) {
      throw reject('not_yet_valid')
    }
    const checked = checkClaims(claims, policy, now, reject)
    return buildPrincipal(checked, token, this.#config.actorType)
  }
}

/**
 * An answer another replica shared: undefined when absent, unreadable, not an RFC 7662 answer or
 * when the store fails (a miss: the endpoint is asked).
 */
async function sharedAnswer(
  shared: SharedCache,
  key: string,
): Promise<{ answer: IntrospectionAnswer; askedAt: number } | undefined> {
  let value: string | undefined
  try {
    value = await shared.get(key)
  } catch {
    return undefined
  }
  if (value === undefined) return undefined
  try {
    const held = JSON.parse(value) as { answer?: unknown; askedAt?: unknown }
    const { answer, askedAt } = held
    if (
      typeof askedAt !== 'number' ||
      typeof answer !== 'object' ||
      answer === null ||
      Array.isArray(answer) ||
      typeof (answer as { active?: unknown }).active !== 'boolean'
    ) {
      return undefined
    }
    return { answer: answer as IntrospectionAnswer, askedAt: Math.min(askedAt, Date.now()) }
  } catch {
    return undefined
  }
}
