/**
 * How `inspect` reports what a service would do with a token, JWT (RFC 7519, RFC 9068) or opaque
 * (RFC 7662 introspection) alike: the principal it would build, or the reason, status and code
 * (RFC 6750 §3.1) it would refuse the token with, and the exit code (0 accepted, 1 refused, 3
 * when the keys or the introspection endpoint could not be had).
 */
import {
  auditRecord,
  isAuthError,
  requireScopes,
  type Authenticator,
  type Principal,
} from '@svcauth/core'
import type { CliIo } from './io.js'
import { emit, EXIT } from './output.js'

/** What each rejection reason means for an operator. */
const REASON_HINTS: Readonly<Partial<Record<string, string>>> = {
  expired: 'the token is past its exp (with the clock tolerance): get a new one',
  not_yet_valid: 'nbf is in the future: a clock is wrong, here or at the issuer',
  iat_invalid: 'iat is in the future: a clock is wrong, here or at the issuer',
  aud_invalid:
    'the token is not for this audience: request it with this service audience (Hydra: audience=..., and the client audience allow-list)',
  iss_invalid: 'the token comes from another issuer than the one this service trusts',
  signature_invalid: 'the signature does not match the issuer keys: a forged or altered token',
  key_not_found:
    'the token kid is not in the issuer key set (a key from elsewhere, or a removed key)',
  alg_not_allowed: 'the token algorithm is not allowed (none, HS*, or outside the allow-list)',
  malformed_jws: 'not a well-formed JWT',
  typ_invalid: 'the token typ header is not an access-token type (an ID token?)',
  lifetime_too_long: 'exp is too far after iat',
  claim_missing: 'a required claim is missing',
  claim_type_invalid: 'a claim has the wrong type',
  sender_constrained: 'a sender-constrained (cnf) token presented as a plain bearer token',
  insufficient_scope:
    'the token lacks a scope the route requires (the client may not be allowed it)',
  jwks_unavailable: 'the issuer keys could not be fetched',
  issuer_unavailable: 'the issuer resolver failed or answered with an invalid configuration',
  crit_unsupported: 'the token has critical header parameters svcauth does not process',
  token_inactive:
    'the issuer says the token is not active: expired, revoked, or never issued by it (RFC 7662 active: false)',
  introspection_unavailable:
    'the introspection endpoint could not be used: unreachable, refusing these client credentials, or not in the issuer metadata (give --introspection-endpoint)',
}

/** What `judge` prints besides the verdict. */
export interface Context {
  /** Scopes a route would require. */
  readonly required: readonly string[]
  /** Whether an audience was given (else any audience passed). */
  readonly audienceChecked: boolean
  /** `expires in …` or `expired … ago`, when the token says; introspection answers have it too. */
  readonly timing?: string
  /** The decoded claims of a JWT, shown with a rejection. */
  readonly claims?: Record<string, unknown>
  readonly format: 'jwt' | 'opaque'
  readonly json: boolean
}

/** Verifies `token` with `auth` as a service would, prints the verdict and gives the exit code. */
export async function judge(
  auth: Authenticator,
  token: string,
  context: Context,
  io: CliIo,
): Promise<number> {
  const { json } = context
  try {
    const principal = await auth.verify(token)
    if (context.required.length > 0) requireScopes(...context.required)(principal)
    const timing = context.timing ?? timingOf(Math.floor(principal.expiresAt.getTime() / 1000))
    const result = {
      verified: true,
      format: context.format,
      result: 'accepted',
      status: 200,
      principal: describe(principal),
      expiry: timing,
      audienceChecked: context.audienceChecked,
    }
    emit(
      io,
      json,
      result,
      `accepted (a service would answer 200)\n${principalText(principal)}  ${timing}\n` +
        (context.audienceChecked
          ? ''
          : 'note: no --audience given, so the audience was not checked\n'),
    )
    return EXIT.ok
  } catch (err) {
    if (!isAuthError(err)) throw err
    const hint = REASON_HINTS[err.reason] ?? ''
    // Why the keys or the endpoint could not be had: an address and a status, never a credential.
    const detail = err.status === 503 && err.cause instanceof Error ? err.cause.message : undefined
    const result = {
      verified: true,
      format: context.format,
      result: 'rejected',
      status: err.status,
      error: err.code,
      reason: err.reason,
      hint,
      ...(detail === undefined ? {} : { detail }),
      ...(context.claims === undefined ? {} : { claims: context.claims }),
      ...(context.timing === undefined ? {} : { expiry: context.timing }),
    }
    emit(
      io,
      json,
      result,
      `rejected: ${err.reason} (a service would answer ${String(err.status)} ${err.code})\n` +
        (hint === '' ? '' : `  meaning: ${hint}\n`) +
        (detail === undefined ? '' : `  detail: ${detail}\n`) +
        (context.timing === undefined ? '' : `  ${context.timing}\n`),
    )
    return err.status === 503 ? EXIT.unreachable : EXIT.refused
  }
}

/** `expires in …` or `expired … ago` for an `exp` in seconds. */
export function timingOf(exp: number | undefined): string {
  const now = Math.floor(Date.now() / 1000)
  if (exp === undefined) return 'no exp'
  return exp <= now ? `expired ${human(now - exp)} ago` : `expires in ${human(exp - now)}`
}

function describe(p: Principal): Record<string, unknown> {
  return {
    ...auditRecord(p),
    scopes: [...p.scopes],
    issuer: p.issuer,
    audience: p.audience,
    expires_at: p.expiresAt.toISOString(),
  }
}

function principalText(p: Principal): string {
  const r = auditRecord(p) as unknown as Record<string, unknown>
  const lines = [
    `  actor_type: ${String(r.actor_type)}`,
    `  actor_id:   ${String(r.actor_id)}`,
    `  sub:        ${String(r.sub)}`,
    `  client_id:  ${String(r.client_id)}`,
    `  scopes:     ${[...p.scopes].join(' ')}`,
    `  issuer:     ${p.issuer}`,
    `  audience:   ${p.audience.join(' ')}`,
    ...(r.act === undefined ? [] : [`  act:        ${JSON.stringify(r.act)}`]),
    `  expires_at: ${p.expiresAt.toISOString()}`,
  ]
  return `${lines.join('\n')}\n`
}

function human(seconds: number): string {
  if (seconds < 120) return `${String(seconds)} s`
  if (seconds < 7200) return `${String(Math.round(seconds / 60))} min`
  return `${String(Math.round(seconds / 3600))} h`
}
