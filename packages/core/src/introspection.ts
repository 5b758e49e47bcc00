/**
 * Opaque tokens by RFC 7662 introspection (Hydra's default `ory_at_…` tokens, introspected at
 * `{admin}/admin/oauth2/introspect`; oidc-provider's `/token/introspection`). The answer is held
 * to the same rules as a JWT's claims (issuer, audience, lifetime, types, `cnf`) and becomes the
 * same Principal. Results are cached by a SHA-256 of the token (never the token itself) until
 * min(`exp`, `cacheTtl`); an inactive answer is cached too (a revoked or expired token does not
 * come back), in its own smaller LRU, so junk tokens cannot evict valid answers (issue 14, R7);
 * concurrent lookups of one token share one request. An unreachable or broken endpoint is 503
 * `temporarily_unavailable`, like a JWKS outage, and is never cached. A discovered endpoint is
 * discovered again after a failed call (issue 14, R11; `lib/discovered-address.ts`). Each call
 * to the endpoint is published on `svcauth:introspection:request` when someone listens.
 */
import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { Dispatcher } from 'undici'
import { checkClaims, type ClaimPolicy } from './claims.js'
import { introspectionChannel, type IntrospectionEvent } from './diagnostics.js'
import { isAuthError, type AuthErrorReason, type Reject } from './errors.js'
import { DiscoveredAddress } from './lib/discovered-address.js'
import { basicAuthorization } from './lib/form.js'
import { httpJson, type HttpLimits } from './lib/http.js'
import type { HttpAllowance } from './lib/urls.js'
import type { ResolvedIntrospection } from './introspection-options.js'
import type { Logger } from './logger.js'
import { buildPrincipal, type ActorTypeRule, type Principal } from './principal.js'

export interface IntrospectorConfig {
  readonly issuer: string
  readonly audience: readonly string[] | false
  readonly options: ResolvedIntrospection
  readonly policy: ClaimPolicy
  readonly actorType: ActorTypeRule | undefined
  readonly allowInsecureHttp: HttpAllowance
  /** Minimum time between two discoveries of the endpoint, ms (the `jwks.cooldown`). */
  readonly discoveryCooldown: number
  readonly dispatcher: Dispatcher | undefined
  readonly logger: Logger
  /** Makes the verifier's errors, in its realm. */
  readonly reject: Reject
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

const LOG_INTERVAL_MS = 10_000

/** The introspection endpoint's state in `authenticator.status()` (issue 16, item 2). */
export interface IntrospectionStatus {
  /** The endpoint in use: configured, or the last one discovered; undefined before discovery. */
  readonly endpoint: string | undefined
  /** The last failed call (never an inactive answer: that is the token's fault). */
  readonly lastFailure?: {
    readonly reason: 'introspection_failed'
    readonly message: string
    readonly at: Date
  }
}

/** A compact JWS has exactly three dot-separated parts; anything else is opaque. */
export function isOpaque(token: string): boolean {
  const first = token.indexOf('.')
  const second = first === -1 ? -1 : token.indexOf('.', first + 1)
  return second === -1 || token.includes('.', second + 1)
}

export class Introspector {
  readonly #config: IntrospectorConfig
  /** Active answers. */
  readonly #accepted: LRUCache<string, Principal>
  /** Refusals, in their own smaller bound: junk tokens only ever evict each other. */
  readonly #refused: LRUCache<string, Refusal>
  readonly #flights = new Map<string, Promise<Result>>()
  readonly #endpoint: DiscoveredAddress
  #lastLog = -Infinity
  #suppressed = 0
  #lastFailure: IntrospectionStatus['lastFailure']

  constructor(config: IntrospectorConfig) {
    this.#config = config
    this.#accepted = new LRUCache({ max: config.options.maxCached })
    this.#refused = new LRUCache({ max: config.options.maxCachedInactive })
    this.#endpoint = new DiscoveredAddress({
      issuer: config.issuer,
      member: 'introspection_endpoint',
      configured: config.options.endpoint,
      allowInsecureHttp: config.allowInsecureHttp,
      cooldown: config.discoveryCooldown,
      maxBytes: 262_144,
    })
  }

  /** The Principal for an opaque token, or an AuthError rejection. */
  async principal(token: string): Promise<Principal> {
    const key = createHash('sha256').update(token).digest('base64url')
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

  status(): IntrospectionStatus {
    const endpoint = this.#endpoint.current
    const lastFailure = this.#lastFailure
    return Object.freeze(lastFailure === undefined ? { endpoint } : { endpoint, lastFailure })
  }

  clear(): void {
    this.#accepted.clear()
    this.#refused.clear()
  }

  async #lookup(key: string, token: string): Promise<Result> {
    const { options } = this.#config
    let body: unknown
    try {
      body = await this.#introspect(token)
    } catch (cause) {
      this.#logFailure(cause)
      this.#publish('error')
      return { reason: 'introspection_unavailable', cause }
    }
    const now = Math.floor(Date.now() / 1000)
    let result: Result
    try {
      result = this.#principalFrom(body, token, now)
    } catch (err) {
      if (!isAuthError(err)) throw err
      if (err.code === 'temporarily_unavailable') {
        this.#logFailure(err)
        this.#publish('error')
        return { reason: err.reason, cause: err.cause }
      }
      result = { reason: err.reason }
    }
    this.#publish('ok')
    if (isRefusal(result)) {
      if (options.cacheTtl > 0) {
        this.#accepted.delete(key)
        this.#refused.set(key, result, { ttl: Math.ceil(options.cacheTtl * 1000) })
      }
    } else {
      const ttl = Math.min(options.cacheTtl, result.expiresAt.getTime() / 1000 - now)
      if (ttl > 0) {
        this.#refused.delete(key)
        this.#accepted.set(key, result, { ttl: Math.ceil(ttl * 1000) })
      }
    }
    return result
  }

  /** RFC 7662 §2.2 answer → Principal, under the same rules as a JWT's claims. */
  #principalFrom(body: unknown, token: string, now: number): Principal {
    const { issuer, audience, options, policy, reject } = this.#config
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw reject('introspection_unavailable', {
        cause: new Error('introspection answer is not a JSON object'),
      })
    }
    const answer = body as Record<string, unknown>
    if (typeof answer.active !== 'boolean') {
      throw reject('introspection_unavailable', {
        cause: new Error('introspection answer has no boolean "active"'),
      })
    }
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

  #limits(): HttpLimits {
    const { options, dispatcher } = this.#config
    return { timeout: options.timeout, maxBytes: options.maxBytes, dispatcher }
  }

  /** The raw answer; after a failed call to a discovered endpoint, once more where it moved. */
  async #introspect(token: string): Promise<unknown> {
    const limits = this.#limits()
    const endpoint = await this.#endpoint.get(limits)
    try {
      return await this.#call(endpoint, token, limits)
    } catch (err) {
      const moved = await this.#endpoint.moved(endpoint, limits)
      if (moved === undefined) throw err
      return this.#call(moved, token, limits)
    }
  }

  #call(endpoint: string, token: string, limits: HttpLimits): Promise<unknown> {
    const { options } = this.#config
    const form = new URLSearchParams({ token, token_type_hint: 'access_token' })
    const headers: Record<string, string> = { ...options.headers }
    if (options.authMethod === 'client_secret_basic') {
      headers.authorization = basicAuthorization(options.clientId ?? '', options.clientSecret ?? '')
    } else if (options.authMethod === 'client_secret_post') {
      form.set('client_id', options.clientId ?? '')
      form.set('client_secret', options.clientSecret ?? '')
    }
    headers.accept = 'application/json'
    headers['content-type'] = 'application/x-www-form-urlencoded'
    return httpJson(endpoint, { method: 'POST', headers, body: form.toString() }, limits)
  }

  #publish(result: IntrospectionEvent['result']): void {
    if (!introspectionChannel.hasSubscribers) return
    const event: IntrospectionEvent = { issuer: this.#config.issuer, result }
    introspectionChannel.publish(event)
  }

  /** One error line per interval, with how many failures it stands for. */
  #logFailure(cause: unknown): void {
    const message = cause instanceof Error ? cause.message : 'error'
    this.#lastFailure = Object.freeze({
      reason: 'introspection_failed' as const,
      message,
      at: new Date(),
    })
    const now = performance.now()
    if (now - this.#lastLog < LOG_INTERVAL_MS) {
      this.#suppressed += 1
      return
    }
    this.#lastLog = now
    const suppressed = this.#suppressed
    this.#suppressed = 0
    this.#config.logger.error(
      {
        event: 'introspection_failed',
        issuer: this.#config.issuer,
        error: message,
        ...(suppressed > 0 ? { suppressed } : {}),
      },
      'svcauth: token introspection failed',
    )
  }
}
