/**
 * Route guards as plain functions: each takes the Principal and throws an AuthError. Adapters
 * wrap them. Scope matching is exact and case-sensitive on a Set (RFC 6749 §3.3): no prefix,
 * substring or prototype-key matching (catalogue F2, F3, F6).
 */
import { AuthError } from './errors.js'
import type { ActorType, Principal } from './principal.js'

/** A check run after authentication; throws an AuthError to refuse the request. */
export interface Guard {
  (principal: Principal, realm?: string): void
  /** What the guard requires, for messages and route inventories. */
  readonly description: string
}

/** What a guard sees of the request: the principal, and whether authentication ran at all. */
export interface GuardState {
  readonly principal: Principal | undefined
  readonly realm: string
}

type ScopeArgs = readonly (string | readonly string[])[]

function scopeList(name: string, args: ScopeArgs): readonly string[] {
  const scopes = args.flat()
  if (scopes.length === 0) throw new TypeError(`svcauth: ${name} needs at least one scope`)
  for (const s of scopes) {
    if (typeof s !== 'string' || s === '' || /[\s"\\]/.test(s)) {
      throw new TypeError(`svcauth: ${name}: scopes must be non-empty strings without spaces`)
    }
  }
  return Object.freeze([...new Set(scopes)])
}

/** `check` gets the realm of the request's authenticator (undefined: the default realm). */
function guard(description: string, check: (principal: Principal, realm?: string) => void): Guard {
  return Object.freeze(Object.assign(check, { description }))
}

/**
 * Requires every listed scope.
 *
 * @example
 * ```ts
 * requireScopes('smd.read', 'smd.write')(principal) // throws 403 insufficient_scope
 * ```
 */
export function requireScopes(...scopes: ScopeArgs): Guard {
  const required = scopeList('requireScopes', scopes)
  return guard(`scopes: ${required.join(' ')}`, (principal, realm) => {
    for (const s of required) {
      if (!principal.scopes.has(s)) {
        throw new AuthError('insufficient_scope', { realm, scopes: required })
      }
    }
  })
}

/**
 * Requires at least one of the listed scopes.
 *
 * @example
 * ```ts
 * requireAnyScope('smd.read', 'smd.admin')(principal)
 * ```
 */
export function requireAnyScope(...scopes: ScopeArgs): Guard {
  const accepted = scopeList('requireAnyScope', scopes)
  return guard(`any scope: ${accepted.join(' ')}`, (principal, realm) => {
    if (!accepted.some((s) => principal.scopes.has(s))) {
      throw new AuthError('insufficient_scope', { realm, scopes: accepted })
    }
  })
}

/**
 * Requires a user or a client (service) caller.
 *
 * @example
 * ```ts
 * requireActor('user')(principal) // a client-credentials token gets 403
 * ```
 */
export function requireActor(type: ActorType): Guard {
  if (!(['user', 'client'] as unknown[]).includes(type)) {
    throw new TypeError("svcauth: requireActor takes 'user' or 'client'")
  }
  return guard(`actor: ${type}`, (principal, realm) => {
    if (principal.actorType !== type) {
      throw new AuthError('actor_not_allowed', { realm })
    }
  })
}

/** A claim value `requireClaim` compares by equality: JSON's primitives. */
export type ClaimValue = string | number | boolean | null

/** A predicate over a claim's value and the whole (read-only) claim set. */
export type ClaimPredicate = (value: unknown, claims: Readonly<Record<string, unknown>>) => boolean

/**
 * Requires a claim to equal a value (strict equality; a JSON primitive), or to satisfy a predicate
 * (which gets the claim value and the whole claim set; one that throws refuses). A claim that is
 * absent is `undefined`, never a value inherited from `Object.prototype`.
 *
 * @example
 * ```ts
 * requireClaim('role', 'operator')
 * requireClaim('tenant', (t, claims) => t === claims.azp)
 * ```
 */
export function requireClaim(name: string, expected: ClaimValue | ClaimPredicate): Guard {
  claimName('requireClaim', name)
  let predicate: ClaimPredicate
  let shown: string
  if (typeof expected === 'function') {
    predicate = expected
    shown = name
  } else if (expected === null || ['string', 'number', 'boolean'].includes(typeof expected)) {
    predicate = (value) => value === expected
    shown = `${name} = ${JSON.stringify(expected)}`
  } else {
    throw new TypeError(
      'svcauth: requireClaim needs a string, number, boolean or null, or a predicate',
    )
  }
  return claimGuard(`claim: ${shown}`, name, predicate)
}

/**
 * Requires a claim to include every listed value: an array claim must contain each (strict
 * equality), a string claim is read as a space-delimited list (RFC 6749 §3.3 style; runs of spaces
 * tolerated) and must contain each as a whole word. Any other claim type refuses.
 *
 * @example
 * ```ts
 * requireClaimIncludes('groups', 'hpc-admins')
 * requireClaimIncludes('amr', 'mfa', 'hwk')
 * ```
 */
export function requireClaimIncludes(
  name: string,
  ...values: readonly (string | number | boolean)[]
): Guard {
  claimName('requireClaimIncludes', name)
  if (values.length === 0)
    throw new TypeError('svcauth: requireClaimIncludes needs at least one value')
  for (const v of values) {
    if (!['string', 'number', 'boolean'].includes(typeof v) || v === '') {
      throw new TypeError(
        'svcauth: requireClaimIncludes values must be non-empty strings, numbers or booleans',
      )
    }
  }
  const wanted = Object.freeze([...values])
  return claimGuard(`claim: ${name} includes ${wanted.join(' ')}`, name, (value) => {
    const list: readonly unknown[] | undefined = Array.isArray(value)
      ? value
      : typeof value === 'string'
        ? value.split(' ').filter((w) => w !== '')
        : undefined
    return list !== undefined && wanted.every((w) => list.includes(w))
  })
}

function claimName(guardName: string, name: unknown): void {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(`svcauth: ${guardName} needs a claim name`)
  }
}

/** The guard over one claim: own properties only; a predicate that throws refuses. */
function claimGuard(description: string, name: string, predicate: ClaimPredicate): Guard {
  return guard(description, (principal, realm) => {
    const claims = principal.claims
    const value = Object.prototype.hasOwnProperty.call(claims, name) ? claims[name] : undefined
    let ok = false
    try {
      ok = (predicate(value, claims) as unknown) === true
    } catch {
      ok = false
    }
    if (!ok) throw new AuthError('claim_check_failed', { realm })
  })
}

const misconfigured = new WeakSet<Guard>()

/**
 * Runs a guard for a request. With no authentication state at all (the guard was mounted where
 * `authenticate` never ran) it fails closed with 401 and warns once per guard; in optional mode
 * with no token it answers 401 with a bare challenge.
 */
export function runGuard(g: Guard, state: GuardState | undefined): void {
  if (state === undefined) {
    if (!misconfigured.has(g)) {
      misconfigured.add(g)
      process.emitWarning(
        `svcauth: a guard (${g.description}) ran on a route where authenticate() did not; the request was refused`,
        { code: 'SVCAUTH_GUARD_WITHOUT_AUTHENTICATE' },
      )
    }
    throw new AuthError('auth_not_configured')
  }
  if (state.principal === undefined) {
    throw new AuthError('missing_token', { realm: state.realm })
  }
  g(state.principal, state.realm)
}
