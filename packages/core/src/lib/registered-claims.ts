/**
 * The registered claims (RFC 7519 §4.1) checked exactly as jose's `jwtVerify` checks them with
 * the options svcauth gives it, in jose's order, so the verdict on every token is jose's: required
 * claims present (`iss`, `aud` unless the check is off, `iat` with `maxTokenAge`, `exp`, and in
 * strict mode `iat`, `sub`, `client_id`, `jti`: RFC 9068 §2.2); `iss` exactly the issuer (RFC 7519
 * §4.1.1); one `aud` accepted (§4.1.3); `nbf`, `exp` and `iat` numbers (§4.1.4–4.1.6) judged
 * with the clock tolerance; `maxTokenAge` against `iat`. What jose never checked is `claims.ts`.
 */
import type { Reject } from '../errors.js'

export interface RegisteredClaimPolicy {
  readonly issuer: string
  /** Accepted audiences; false when the audience check is off. */
  readonly audience: readonly string[] | false
  readonly clockTolerance: number
  readonly maxTokenAge: number | undefined
  /** Claims that must be present, in the order jose looks for them. */
  readonly presence: readonly string[]
}

/** The policy for one issuer: the presence order is jose's (`lib/jwt_claims_set.js`). */
export function registeredClaimPolicy(
  issuer: string,
  audience: readonly string[] | false,
  options: { clockTolerance: number; maxTokenAge: number | undefined; strict: boolean },
): RegisteredClaimPolicy {
  const required = options.strict ? ['exp', 'iat', 'sub', 'client_id', 'jti'] : ['exp']
  const all = [...required]
  if (options.maxTokenAge !== undefined) all.push('iat')
  if (audience !== false) all.push('aud')
  all.push('iss')
  return Object.freeze({
    issuer,
    audience,
    clockTolerance: options.clockTolerance,
    maxTokenAge: options.maxTokenAge,
    presence: Object.freeze([...new Set(all.reverse())]),
  })
}

/** Throws `reject(reason)` for the first registered claim jose would refuse. */
export function checkRegisteredClaims(
  claims: Readonly<Record<string, unknown>>,
  policy: RegisteredClaimPolicy,
  now: number,
  reject: Reject,
): void {
  for (const name of policy.presence) {
    if (!Object.hasOwn(claims, name)) throw reject('claim_missing')
  }
  if (claims.iss !== policy.issuer) throw reject('iss_invalid')
  if (policy.audience !== false && !audienceAccepted(claims.aud, policy.audience)) {
    throw reject('aud_invalid')
  }
  const tolerance = policy.clockTolerance
  const { maxTokenAge } = policy
  const iat = numericDate(claims.iat, reject)
  const nbf = numericDate(claims.nbf, reject)
  if (nbf !== undefined && nbf > now + tolerance) throw reject('not_yet_valid')
  const exp = numericDate(claims.exp, reject)
  if (exp !== undefined && exp <= now - tolerance) throw reject('expired')
  if (maxTokenAge !== undefined) {
    // Present: `iat` is among the required claims whenever maxTokenAge is set.
    const age = now - (iat as number)
    if (age - tolerance > maxTokenAge) throw reject('token_too_old')
    if (age < -tolerance) throw reject('iat_invalid')
  }
}

/** A NumericDate when present: any JSON number (jose does not ask for finiteness here). */
function numericDate(value: unknown, reject: Reject): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number') throw reject('claim_type_invalid')
  return value
}

/** One of the accepted audiences is the `aud` string, or a member of the `aud` array. */
function audienceAccepted(aud: unknown, accepted: readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud)
  if (!Array.isArray(aud)) return false
  const list = aud as unknown[]
  return accepted.some((a) => list.includes(a))
}
