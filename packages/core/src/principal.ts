/**
 * The Principal: what routes see of a verified token. Built by explicit field copy from verified
 * claims (never `Object.assign` from the payload: catalogue B10), frozen, with a null-prototype
 * read-only claim set. The raw token is reachable only through {@link rawToken}.
 */

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
  /** `'client'` for a service token (`sub === client_id`, or no user subject), else `'user'`. */
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
}

const RAW_TOKEN: unique symbol = Symbol.for('svcauth.rawToken') as never

/** The bearer token the principal was built from, for forwarding it downstream. */
export function rawToken(principal: Principal): string | undefined {
  const value = (principal as unknown as Record<symbol, unknown>)[RAW_TOKEN]
  return typeof value === 'string' ? value : undefined
}

/** A Set whose mutators throw, so a frozen principal's scopes stay as verified. */
class ScopeSet extends Set<string> {
  constructor(values: Iterable<string>) {
    super()
    for (const value of values) super.add(value)
  }
  override add(): this {
    throw new TypeError('svcauth: principal scopes are read-only')
  }
  override delete(): boolean {
    throw new TypeError('svcauth: principal scopes are read-only')
  }
  override clear(): void {
    throw new TypeError('svcauth: principal scopes are read-only')
  }
}

/** Decides the actor type; return undefined to fall back to the default rule. */
export type ActorTypeRule = (claims: Readonly<Record<string, unknown>>) => ActorType | undefined

export interface PrincipalInput {
  readonly claims: Readonly<Record<string, unknown>>
  readonly scopes: readonly string[]
  readonly act: Actor | undefined
  readonly token: string
  readonly actorTypeRule: ActorTypeRule | undefined
}

/** The default rule: Hydra client credentials (`sub === client_id`), no subject, or TokenSmith's `auth_events: ["service_auth"]`. */
export function defaultActorType(claims: Readonly<Record<string, unknown>>): ActorType {
  const sub = claims.sub
  const clientId = claims.client_id ?? claims.azp
  if (sub === undefined || sub === clientId) return 'client'
  const events = claims.auth_events
  if (Array.isArray(events) && events.includes('service_auth')) return 'client'
  return 'user'
}

export function buildPrincipal(input: PrincipalInput): Principal {
  const { claims } = input
  const sub = optionalString(claims.sub)
  const clientId = optionalString(claims.client_id) ?? optionalString(claims.azp)
  const actorType = input.actorTypeRule?.(claims) ?? defaultActorType(claims)
  const actorId = (actorType === 'client' ? (clientId ?? sub) : (sub ?? clientId)) ?? ''
  const aud = claims.aud
  const principal: Principal = {
    actorType,
    actorId,
    sub,
    clientId,
    scopes: new ScopeSet(input.scopes),
    act: input.act,
    issuer: claims.iss as string,
    audience: Object.freeze(
      typeof aud === 'string' ? [aud] : Array.isArray(aud) ? (aud as string[]).slice() : [],
    ),
    expiresAt: new Date((claims.exp as number) * 1000),
    tokenId: optionalString(claims.jti),
    claims,
  }
  Object.defineProperty(principal, RAW_TOKEN, { value: input.token, enumerable: false })
  return Object.freeze(principal)
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}
