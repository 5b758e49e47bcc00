/**
 * The Principal: what routes see of a verified token. Built by explicit field copy from verified
 * claims (never `Object.assign` from the payload: catalogue B10), frozen, with a null-prototype
 * read-only claim set. The raw token is reachable only through {@link rawToken}.
 */
import type { CheckedClaims, Confirmation } from './claims.js'

/** Who is calling: a service acting for itself, or a user (possibly through a service). */
export type ActorType = 'user' | 'client'

/** One link of an RFC 8693 §4.1 actor chain: the party acting, and who acted before it. */
export interface Actor {
  readonly sub: string
  readonly clientId?: string | undefined
  readonly iss?: string | undefined
  readonly act?: Actor | undefined
}

/** A verified caller. */
export interface Principal {
  /**
   * `'client'` for a service token (`sub === client_id`, no `sub`, or TokenSmith's `service_auth`),
   * else `'user'`; a token with user-authentication claims (`auth_time`, `acr`, `amr`) is always
   * a user. The `actorType` option overrides the rule.
   */
  readonly actorType: ActorType
  /** `client_id` for a client, `sub` for a user. */
  readonly actorId: string
  readonly sub: string | undefined
  /** `client_id`, falling back to `azp`. */
  readonly clientId: string | undefined
  /** Union of `scope` (space-delimited), `scp` (array or string) and configured extra claims. */
  readonly scopes: ReadonlySet<string>
  /** The RFC 8693 actor chain, when the token is delegated. */
  readonly act: Actor | undefined
  readonly issuer: string
  readonly audience: readonly string[]
  readonly expiresAt: Date
  /** `jti`. */
  readonly tokenId: string | undefined
  /** The verified claim set: read-only, null-prototype. */
  readonly claims: Readonly<Record<string, unknown>>
  /**
   * What the token is bound to, checked on this request by `authenticate()`: `{ jkt }` for a
   * DPoP-bound token (its proof's key, RFC 9449 §6), `{ x5tS256 }` for a certificate-bound one
   * (the client certificate, RFC 8705 §3); undefined for a plain Bearer token.
   */
  readonly confirmation: Confirmation | undefined
}

const RAW_TOKEN: unique symbol = Symbol.for('svcauth.rawToken') as never

/** The bearer token the principal was built from, for forwarding it downstream. */
export function rawToken(principal: Principal): string | undefined {
  const value = (principal as unknown as Record<symbol, unknown>)[RAW_TOKEN]
  return typeof value === 'string' ? value : undefined
}

/**
 * The principal's scopes: a read-only view over a private Set (cheaper to build than a Set
 * subclass, and nothing can reach the Set to change it). Mutators throw, so code written against
 * `Set` fails loudly instead of silently granting a scope.
 */
class ScopeSet implements ReadonlySet<string> {
  readonly #values: Set<string>
  constructor(values: readonly string[]) {
    this.#values = new Set(values)
  }
  get size(): number {
    return this.#values.size
  }
  has(value: string): boolean {
    return this.#values.has(value)
  }
  forEach(
    callback: (value: string, key: string, set: ReadonlySet<string>) => void,
    thisArg?: unknown,
  ): void {
    for (const value of this.#values) callback.call(thisArg, value, value, this)
  }
  entries(): SetIterator<[string, string]> {
    return this.#values.entries()
  }
  keys(): SetIterator<string> {
    return this.#values.keys()
  }
  values(): SetIterator<string> {
    return this.#values.values()
  }
  [Symbol.iterator](): SetIterator<string> {
    return this.#values.values()
  }
  /** `JSON.stringify(principal)` shows the scopes as an array. */
  toJSON(): string[] {
    return [...this.#values]
  }
  get [Symbol.toStringTag](): string {
    return 'ScopeSet'
  }
  add(): never {
    throw new TypeError('svcauth: principal scopes are read-only')
  }
  delete(): never {
    throw new TypeError('svcauth: principal scopes are read-only')
  }
  clear(): never {
    throw new TypeError('svcauth: principal scopes are read-only')
  }
}

/** Decides the actor type; return undefined to fall back to the default rule. */
export type ActorTypeRule = (claims: Readonly<Record<string, unknown>>) => ActorType | undefined

/**
 * The default rule. A token that records a user authentication (`auth_time`, `acr` or `amr`:
 * RFC 9068 §2.2.1, OpenID Connect Core §2) is a user, even when its `sub` equals its client id
 * (issue 14, R9: otherwise a service would use its own, often broader, token downstream).
 * Otherwise a client for Hydra client credentials (`sub === client_id`), no subject, or
 * TokenSmith's `auth_events: ["service_auth"]`; else a user.
 *
 * @example
 * ```ts
 * defaultActorType({ sub: 'bss', client_id: 'bss' }) // 'client'
 * defaultActorType({ sub: 'bss', client_id: 'bss', auth_time: 1767225600 }) // 'user'
 * ```
 */
export function defaultActorType(claims: Readonly<Record<string, unknown>>): ActorType {
  if (claims.auth_time !== undefined || claims.acr !== undefined || claims.amr !== undefined) {
    return 'user'
  }
  const sub = claims.sub
  const clientId = claims.client_id ?? claims.azp
  if (sub === undefined || sub === clientId) return 'client'
  const events = claims.auth_events
  if (Array.isArray(events) && events.includes('service_auth')) return 'client'
  return 'user'
}

/**
 * Builds the frozen Principal from checked claims (the claim set is already a frozen,
 * null-prototype copy, so its `aud` array is shared, not copied).
 */
export function buildPrincipal(
  checked: CheckedClaims,
  token: string,
  actorTypeRule: ActorTypeRule | undefined,
): Principal {
  const { claims } = checked
  const sub = optionalString(claims.sub)
  const clientId = optionalString(claims.client_id) ?? optionalString(claims.azp)
  const actorType = actorTypeRule?.(claims) ?? defaultActorType(claims)
  const actorId = (actorType === 'client' ? (clientId ?? sub) : (sub ?? clientId)) ?? ''
  const aud = claims.aud
  const principal: Principal = {
    actorType,
    actorId,
    sub,
    clientId,
    scopes: new ScopeSet(checked.scopes),
    act: checked.act,
    issuer: claims.iss as string,
    audience:
      typeof aud === 'string'
        ? Object.freeze([aud])
        : Array.isArray(aud)
          ? (aud as readonly string[])
          : NO_AUDIENCE,
    expiresAt: new Date((claims.exp as number) * 1000),
    tokenId: optionalString(claims.jti),
    claims,
    confirmation: checked.confirmation,
  }
  Object.defineProperty(principal, RAW_TOKEN, { value: token, enumerable: false })
  return Object.freeze(principal)
}

const NO_AUDIENCE: readonly string[] = Object.freeze([])

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}
