/**
 * Claim checks jose does not do (RFC 9068 §2.2, RFC 8725, catalogue E7–E12, F5):
 * finite `exp` and a bounded lifetime, no future `iat`, string types for identity claims, `aud`
 * shape, the confirmation claim `cnf` (RFC 7800: a DPoP key thumbprint `jkt` where DPoP is on, a
 * certificate thumbprint `x5t#S256` where mutual TLS is on; any other is refused as a
 * sender-constrained token svcauth cannot check), and typed scope claims.
 * Also the read-only, null-prototype claim set that the Principal exposes.
 */
import type { Reject } from './errors.js'
import type { Actor } from './principal.js'

export interface ClaimPolicy {
  readonly clockTolerance: number
  readonly maxLifetime: number
  readonly scopeClaims: readonly string[]
  /** DPoP is on: a `cnf.jkt` binding is accepted (the caller then checks the proof). */
  readonly dpop?: object | undefined
  /** Mutual TLS is on: a `cnf["x5t#S256"]` binding is accepted (the caller checks the certificate). */
  readonly mtls?: object | undefined
}

/**
 * A token's proof-of-possession binding (RFC 7800), exactly one of: the RFC 7638 thumbprint of a
 * DPoP key (`jkt`, RFC 9449 §6) or the SHA-256 thumbprint of a client certificate (`x5tS256`, the
 * token's `cnf["x5t#S256"]`, RFC 8705 §3.1).
 */
export interface Confirmation {
  readonly jkt?: string
  readonly x5tS256?: string
}

const STRING_CLAIMS = ['iss', 'sub', 'client_id', 'azp', 'jti'] as const
const MAX_ACT_DEPTH = 8
const MAX_CLONE_DEPTH = 32

export interface CheckedClaims {
  readonly claims: Readonly<Record<string, unknown>>
  readonly scopes: readonly string[]
  readonly act: Actor | undefined
  readonly confirmation: Confirmation | undefined
}

/**
 * Validates a verified payload and returns the frozen claims, scopes and actor chain; a failure
 * is thrown as `reject(reason)`. The payload must be a fresh JSON parse that nothing else holds:
 * on success it is frozen in place and becomes the claim set.
 */
export function checkClaims(
  payload: Record<string, unknown>,
  policy: ClaimPolicy,
  nowSeconds: number,
  reject: Reject,
): CheckedClaims {
  const { exp, iat } = payload
  if (typeof exp !== 'number')
    throw reject(exp === undefined ? 'claim_missing' : 'claim_type_invalid')
  if (!Number.isFinite(exp)) throw reject('lifetime_too_long')
  if (iat !== undefined) {
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw reject('claim_type_invalid')
    if (iat > nowSeconds + policy.clockTolerance) throw reject('iat_invalid')
    if (exp - iat > policy.maxLifetime) throw reject('lifetime_too_long')
  } else if (exp - nowSeconds > policy.maxLifetime) {
    throw reject('lifetime_too_long')
  }
  for (const name of STRING_CLAIMS) {
    const value = payload[name]
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      throw reject('claim_type_invalid')
    }
  }
  const { aud } = payload
  if (
    aud !== undefined &&
    typeof aud !== 'string' &&
    !(Array.isArray(aud) && aud.every((a) => typeof a === 'string'))
  ) {
    throw reject('claim_type_invalid')
  }
  let confirmation: Confirmation | undefined
  if (payload.cnf !== undefined) {
    confirmation = readConfirmation(payload.cnf, policy, reject)
    if (confirmation === undefined) throw reject('sender_constrained')
  }
  const scopes = readScopes(payload, policy.scopeClaims)
  if (scopes === undefined) throw reject('claim_type_invalid')
  const act = payload.act === undefined ? undefined : readActor(payload.act, 0)
  if (act === null) throw reject('claim_type_invalid')
  return {
    claims: freezeClaims(payload, 0) as Readonly<Record<string, unknown>>,
    scopes,
    act,
    confirmation,
  }
}

/** A SHA-256 thumbprint (RFC 7638 `jkt`, RFC 8705 `x5t#S256`): 32 bytes, base64url, no padding. */
const SHA256_THUMBPRINT = /^[A-Za-z0-9_-]{43}$/

/**
 * `cnf` with exactly one confirmation method this authenticator checks: `jkt` where DPoP is on,
 * `x5t#S256` where mutual TLS is on. Undefined for any other (another method, one that is off, or
 * two at once), which svcauth cannot check and so must not accept (RFC 9449 §7.2, RFC 8705 §3).
 */
function readConfirmation(
  cnf: unknown,
  policy: ClaimPolicy,
  reject: Reject,
): Confirmation | undefined {
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) {
    throw reject('claim_type_invalid')
  }
  const members = Object.keys(cnf)
  if (members.length !== 1) return undefined
  const [member] = members
  const enabled =
    (member === 'jkt' && policy.dpop !== undefined) ||
    (member === 'x5t#S256' && policy.mtls !== undefined)
  if (!enabled) return undefined
  const value = (cnf as Record<string, unknown>)[member as string]
  if (typeof value !== 'string' || !SHA256_THUMBPRINT.test(value)) {
    throw reject('claim_type_invalid')
  }
  return Object.freeze(member === 'jkt' ? { jkt: value } : { x5tS256: value })
}

/**
 * `scope` is a space-delimited string (RFC 8693 §4.2; runs of spaces tolerated, tabs and commas
 * are not separators); `scp` and configured extra claims may be a string or an array of strings.
 * Returns undefined when a scope claim has another type.
 */
function readScopes(
  payload: Readonly<Record<string, unknown>>,
  extra: readonly string[],
): string[] | undefined {
  const out: string[] = []
  const scope = payload.scope
  if (scope !== undefined) {
    if (typeof scope !== 'string') return undefined
    splitInto(scope, out)
  }
  if (!readScopeClaim(payload.scp, out)) return undefined
  for (const name of extra) if (!readScopeClaim(payload[name], out)) return undefined
  return out
}

/** Adds a string-or-array scope claim to `out`; false when the claim has another type. */
function readScopeClaim(value: unknown, out: string[]): boolean {
  if (value === undefined) return true
  if (typeof value === 'string') {
    splitInto(value, out)
    return true
  }
  if (!Array.isArray(value)) return false
  for (const v of value as unknown[]) {
    if (typeof v !== 'string' || v === '') return false
  }
  for (const v of value as string[]) out.push(v)
  return true
}

function splitInto(value: string, out: string[]): void {
  for (const part of value.split(' ')) if (part !== '') out.push(part)
}

/** Reads an RFC 8693 `act` claim; null when malformed. */
function readActor(value: unknown, depth: number): Actor | null {
  if (
    depth >= MAX_ACT_DEPTH ||
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value)
  ) {
    return null
  }
  const v = value as Record<string, unknown>
  if (typeof v.sub !== 'string' || v.sub === '') return null
  const clientId = v.client_id
  const iss = v.iss
  if (clientId !== undefined && typeof clientId !== 'string') return null
  if (iss !== undefined && typeof iss !== 'string') return null
  let act: Actor | undefined
  if (v.act !== undefined) {
    const inner = readActor(v.act, depth + 1)
    if (inner === null) return null
    act = inner
  }
  return Object.freeze({ sub: v.sub, clientId, iss, act })
}

/**
 * Freezes a parsed claim set in place, its objects turned null-prototype (arrays stay arrays).
 * Issue 17: a deep copy into `Object.create(null)` objects cost more than parsing the token, as
 * those start in dictionary mode and freezing one rewrites every property. A JSON parse has only
 * own data properties, so a `__proto__` key stays an ordinary key (an own data property shadows
 * the accessor, and the prototype is gone afterwards). Parts deeper than MAX_CLONE_DEPTH are
 * dropped.
 */
function freezeClaims(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (depth > MAX_CLONE_DEPTH) return undefined
  const target = value as Record<string, unknown>
  for (const key of Object.keys(target)) {
    const v = target[key]
    if (typeof v !== 'object' || v === null) continue
    const frozen = freezeClaims(v, depth + 1)
    if (frozen !== v) target[key] = frozen
  }
  if (!Array.isArray(value)) Object.setPrototypeOf(value, null)
  return Object.freeze(value)
}
