/**
 * The AuthError family and the one place that formats a Bearer challenge (RFC 6750 §3).
 *
 * Callers branch on `err.code` (closed set, mapped to an HTTP status) or on `err.reason` (a finer
 * label for logs and audit). Messages and challenge attributes are fixed strings: nothing from the
 * token or the request is ever echoed.
 */

/** The closed set of error codes, each tied to one HTTP status. */
export type AuthErrorCode =
  | 'unauthorized'
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'temporarily_unavailable'

/** Why a request was rejected, for logs and audit lines. Never shown as the `error` code. */
export type AuthErrorReason =
  | 'missing_token'
  | 'malformed_header'
  | 'multiple_methods'
  | 'token_too_large'
  | 'malformed_jws'
  | 'alg_not_allowed'
  | 'signature_invalid'
  | 'key_not_found'
  | 'key_invalid'
  | 'jwks_ambiguous'
  | 'jwks_unavailable'
  | 'typ_invalid'
  | 'iss_invalid'
  | 'aud_invalid'
  | 'expired'
  | 'not_yet_valid'
  | 'iat_invalid'
  | 'lifetime_too_long'
  | 'token_too_old'
  | 'claim_missing'
  | 'claim_type_invalid'
  | 'crit_unsupported'
  | 'sender_constrained'
  | 'revoked'
  | 'token_inactive'
  | 'introspection_unavailable'
  | 'insufficient_scope'
  | 'actor_not_allowed'
  | 'claim_check_failed'
  | 'auth_not_configured'
  | 'verification_failed'

/** HTTP status for each code. */
export const STATUS_BY_CODE: Readonly<Record<AuthErrorCode, number>> = Object.freeze({
  unauthorized: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  temporarily_unavailable: 503,
})

/** Fixed, generic descriptions (RFC 6750 §3: `error_description` is %x20-21 / %x23-5B / %x5D-7E). */
const DESCRIPTIONS: Readonly<Record<AuthErrorReason, string>> = Object.freeze({
  missing_token: 'Authentication required',
  malformed_header: 'The Authorization header is malformed',
  multiple_methods: 'More than one credential was presented',
  token_too_large: 'The access token is too large',
  malformed_jws: 'The access token is malformed',
  alg_not_allowed: 'The access token is invalid',
  signature_invalid: 'The access token is invalid',
  key_not_found: 'The access token is invalid',
  key_invalid: 'The access token is invalid',
  jwks_ambiguous: 'The access token is invalid',
  jwks_unavailable: 'The authorization server keys are temporarily unavailable',
  typ_invalid: 'The access token is invalid',
  iss_invalid: 'The access token is invalid',
  aud_invalid: 'The access token is invalid',
  expired: 'The access token expired',
  not_yet_valid: 'The access token is not valid yet',
  iat_invalid: 'The access token is invalid',
  lifetime_too_long: 'The access token is invalid',
  token_too_old: 'The access token is too old',
  claim_missing: 'The access token is invalid',
  claim_type_invalid: 'The access token is invalid',
  crit_unsupported: 'The access token is invalid',
  sender_constrained: 'The access token is invalid',
  revoked: 'The access token is invalid',
  token_inactive: 'The access token is invalid',
  introspection_unavailable: 'The authorization server is temporarily unavailable',
  insufficient_scope: 'The access token lacks a required scope',
  actor_not_allowed: 'This caller is not allowed here',
  claim_check_failed: 'This caller is not allowed here',
  auth_not_configured: 'Authentication required',
  verification_failed: 'The access token is invalid',
})

/** Options for {@link AuthError}; `scopes` feeds the 403 challenge, `retryAfter` the 503 header. */
export interface AuthErrorOptions {
  /** Protection space named in the challenge. @default 'api' */
  realm?: string
  /** Required scopes, for `insufficient_scope`. */
  scopes?: readonly string[]
  /** Seconds, for `temporarily_unavailable`. @default 5 */
  retryAfter?: number
  /** The underlying error, kept for debugging; never serialised into responses. */
  cause?: unknown
}

/**
 * An authentication or authorization failure, carrying everything an adapter needs to answer:
 * `status`, `code`, `reason` and ready `headers`.
 *
 * @example
 * ```ts
 * try { await verifier.verify(token) } catch (err) {
 *   if (isAuthError(err) && err.code === 'invalid_token') { ... }
 * }
 * ```
 */
export class AuthError extends Error {
  override readonly name = 'AuthError'
  readonly code: AuthErrorCode
  readonly reason: AuthErrorReason
  readonly status: number
  /** Response headers for this error (`WWW-Authenticate`, `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>
  /** Koa and http-errors read this: the message is safe to show. */
  readonly expose = true
  readonly #options: AuthErrorOptions

  constructor(code: AuthErrorCode, reason: AuthErrorReason, options: AuthErrorOptions = {}) {
    super(DESCRIPTIONS[reason], options.cause === undefined ? undefined : { cause: options.cause })
    this.#options = options
    this.code = code
    this.reason = reason
    this.status = STATUS_BY_CODE[code]
    this.headers = Object.freeze(errorHeaders(code, reason, options))
  }

  /** The fixed description sent as `error_description`. */
  get description(): string {
    return this.message
  }

  /** Same error, with the challenge rebuilt for another realm. */
  withRealm(realm: string): AuthError {
    return new AuthError(this.code, this.reason, { ...this.#options, realm })
  }
}

/** True for an AuthError from any copy of this package (checks `name` and `code`, not the class). */
export function isAuthError(err: unknown): err is AuthError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { name?: unknown }).name === 'AuthError' &&
    typeof (err as { code?: unknown }).code === 'string' &&
    typeof (err as { status?: unknown }).status === 'number'
  )
}

const QUOTED_SAFE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g

/** Makes a value safe inside a quoted challenge attribute: no CR/LF, quote or backslash. */
function quoteSafe(value: string): string {
  return value.replace(QUOTED_SAFE, '')
}

/**
 * Formats `Bearer realm="…"[, error="…", error_description="…"][, scope="…"]`.
 * With no credentials presented (`unauthorized`) the challenge carries no `error` (RFC 6750 §3.1).
 */
export function formatChallenge(
  realm: string,
  code?: Exclude<AuthErrorCode, 'temporarily_unavailable'>,
  description?: string,
  scopes?: readonly string[],
): string {
  let value = `Bearer realm="${quoteSafe(realm)}"`
  if (code !== undefined && code !== 'unauthorized') {
    value += `, error="${code}"`
    if (description !== undefined) value += `, error_description="${quoteSafe(description)}"`
    if (code === 'insufficient_scope' && scopes !== undefined && scopes.length > 0) {
      value += `, scope="${quoteSafe(scopes.join(' '))}"`
    }
  }
  return value
}

function errorHeaders(
  code: AuthErrorCode,
  reason: AuthErrorReason,
  options: AuthErrorOptions,
): Record<string, string> {
  if (code === 'temporarily_unavailable') {
    const seconds = Math.max(1, Math.ceil(options.retryAfter ?? 5))
    return { 'Retry-After': String(seconds) }
  }
  return {
    'WWW-Authenticate': formatChallenge(
      options.realm ?? 'api',
      code,
      DESCRIPTIONS[reason],
      options.scopes,
    ),
  }
}

/** A framework-neutral response for an AuthError: adapters copy it onto theirs. */
export interface ErrorResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: { readonly error: AuthErrorCode; readonly error_description: string }
}

/** The JSON response the adapters send by default. */
export function errorResponse(err: AuthError): ErrorResponse {
  return {
    status: err.status,
    headers: { ...err.headers, 'Cache-Control': 'no-store' },
    body: { error: err.code, error_description: err.description },
  }
}
