/**
 * The AuthError family and the one place that formats the challenges: Bearer (RFC 6750 §3) and,
 * where DPoP is accepted, DPoP (RFC 9449 §7.1) beside or instead of it.
 *
 * Callers branch on `err.code` (closed set, mapped to an HTTP status) or on `err.reason` (a finer
 * label for logs and audit). One table gives each reason its code and description; the realm is
 * bound once per verifier (`rejecter`). Messages and challenge attributes are fixed strings: nothing from the
 * token or the request is ever echoed.
 */

/** The closed set of error codes, each tied to one HTTP status. */
export type AuthErrorCode =
  | 'unauthorized'
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'temporarily_unavailable'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'

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
  | 'issuer_unavailable'
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
  | 'dpop_required'
  | 'dpop_scheme_mismatch'
  | 'dpop_proof_invalid'
  | 'dpop_proof_replayed'
  | 'dpop_htu_mismatch'
  | 'dpop_nonce_required'
  | 'dpop_unbound'
  | 'dpop_key_mismatch'
  | 'dpop_replay_unavailable'
  | 'request_uri_invalid'
  | 'mtls_required'
  | 'mtls_certificate_missing'
  | 'mtls_certificate_mismatch'
  | 'mtls_certificate_invalid'
  | 'mtls_header_invalid'
  | 'revoked'
  | 'token_inactive'
  | 'introspection_unavailable'
  | 'revocation_unavailable'
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
  // RFC 9449 §7.1: both answered with 401 and a DPoP challenge.
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
})

/** The realm of a challenge when none is configured. */
export const DEFAULT_REALM = 'api'

const INVALID = 'The access token is invalid'
const REQUIRED = 'Authentication required'
const NOT_ALLOWED = 'This caller is not allowed here'
const UNAVAILABLE = 'The authorization server is temporarily unavailable'

/** One row of the table; `C` stays the literal code, so the types know each reason's code. */
function row<C extends AuthErrorCode>(code: C, description: string) {
  return Object.freeze({ code, description })
}

/**
 * The one table: each reason's code, and so its status, and its fixed, generic description
 * (RFC 6750 §3: `error_description` is %x20-21 / %x23-5B / %x5D-7E). An error takes its code from
 * here, so no reason can be a 401 in one place and a 503 in another.
 */
const REASONS = Object.freeze({
  missing_token: row('unauthorized', REQUIRED),
  auth_not_configured: row('unauthorized', REQUIRED),
  malformed_header: row('invalid_request', 'The Authorization header is malformed'),
  multiple_methods: row('invalid_request', 'More than one credential was presented'),
  token_too_large: row('invalid_token', 'The access token is too large'),
  malformed_jws: row('invalid_token', 'The access token is malformed'),
  alg_not_allowed: row('invalid_token', INVALID),
  signature_invalid: row('invalid_token', INVALID),
  key_not_found: row('invalid_token', INVALID),
  key_invalid: row('invalid_token', INVALID),
  jwks_ambiguous: row('invalid_token', INVALID),
  typ_invalid: row('invalid_token', INVALID),
  iss_invalid: row('invalid_token', INVALID),
  aud_invalid: row('invalid_token', INVALID),
  expired: row('invalid_token', 'The access token expired'),
  not_yet_valid: row('invalid_token', 'The access token is not valid yet'),
  iat_invalid: row('invalid_token', INVALID),
  lifetime_too_long: row('invalid_token', INVALID),
  token_too_old: row('invalid_token', 'The access token is too old'),
  claim_missing: row('invalid_token', INVALID),
  claim_type_invalid: row('invalid_token', INVALID),
  crit_unsupported: row('invalid_token', INVALID),
  sender_constrained: row('invalid_token', INVALID),
  dpop_required: row('unauthorized', 'A DPoP-bound access token and a DPoP proof are required'),
  dpop_scheme_mismatch: row('invalid_request', 'A DPoP proof needs the DPoP authorization scheme'),
  dpop_proof_invalid: row('invalid_dpop_proof', 'The DPoP proof is invalid'),
  dpop_proof_replayed: row('invalid_dpop_proof', 'The DPoP proof was already used'),
  dpop_htu_mismatch: row('invalid_dpop_proof', 'The DPoP proof is for another URI'),
  dpop_nonce_required: row(
    'use_dpop_nonce',
    'The resource server requires a nonce in the DPoP proof',
  ),
  dpop_unbound: row('invalid_token', 'The access token is not bound to a DPoP key'),
  dpop_key_mismatch: row('invalid_token', 'Invalid DPoP key binding'),
  request_uri_invalid: row('invalid_request', 'The request URI is invalid'),
  mtls_required: row('invalid_token', 'The access token must be bound to a client certificate'),
  mtls_certificate_missing: row(
    'invalid_token',
    'The access token needs the client certificate it is bound to',
  ),
  mtls_certificate_mismatch: row(
    'invalid_token',
    'The access token is bound to another certificate',
  ),
  mtls_certificate_invalid: row('invalid_token', 'The client certificate is not valid now'),
  mtls_header_invalid: row('invalid_request', 'The client certificate header is malformed'),
  revoked: row('invalid_token', INVALID),
  token_inactive: row('invalid_token', INVALID),
  verification_failed: row('invalid_token', INVALID),
  insufficient_scope: row('insufficient_scope', 'The access token lacks a required scope'),
  actor_not_allowed: row('insufficient_scope', NOT_ALLOWED),
  claim_check_failed: row('insufficient_scope', NOT_ALLOWED),
  jwks_unavailable: row(
    'temporarily_unavailable',
    'The authorization server keys are temporarily unavailable',
  ),
  introspection_unavailable: row('temporarily_unavailable', UNAVAILABLE),
  issuer_unavailable: row(
    'temporarily_unavailable',
    'The issuer configuration is temporarily unavailable',
  ),
  revocation_unavailable: row(
    'temporarily_unavailable',
    'The revocation check is temporarily unavailable',
  ),
  dpop_replay_unavailable: row(
    'temporarily_unavailable',
    'The DPoP replay check is temporarily unavailable',
  ),
} satisfies { readonly [R in AuthErrorReason]: ReturnType<typeof row> })

/** `(code, reason, options)` where the code is the one the table gives the reason. */
type CodeAndReason = {
  [R in AuthErrorReason]: [code: (typeof REASONS)[R]['code'], reason: R, options?: AuthErrorOptions]
}[AuthErrorReason]

/** Options for {@link AuthError}; `scopes` feeds the 403 challenge, `retryAfter` the 503 header. */
export interface AuthErrorOptions {
  /** Protection space named in the challenge. @default 'api' */
  realm?: string | undefined
  /** Required scopes, for `insufficient_scope`. */
  scopes?: readonly string[]
  /** Seconds, for `temporarily_unavailable`. @default 5 */
  retryAfter?: number
  /** The underlying error, kept for debugging; never serialised into responses. */
  cause?: unknown
  /** Where DPoP is accepted: the challenges to answer with (RFC 9449 §7.1) and a fresh nonce. */
  dpop?: DpopChallenge | undefined
}

/**
 * How a resource that accepts DPoP challenges (RFC 9449 §7.1): a `DPoP` challenge listing the
 * proof algorithms, beside the Bearer one unless only DPoP is accepted; the error attributes go on
 * the challenge of the scheme the request used.
 */
export interface DpopChallenge {
  /** The proof algorithms accepted, for `algs="…"`. */
  readonly algs: readonly string[]
  /** Only the DPoP scheme is accepted: no Bearer challenge. */
  readonly required: boolean
  /** The scheme the request used (its challenge carries the error), if it used one. */
  readonly scheme: 'bearer' | 'dpop' | undefined
  /** A fresh server nonce, sent as the `DPoP-Nonce` header (RFC 9449 §8, §9). */
  readonly nonce?: string | undefined
}

/**
 * An authentication or authorization failure, carrying everything an adapter needs to answer:
 * `status`, `code`, `reason` and ready `headers`. The code (and so the status) is the reason's,
 * from one table; the code-first form is kept for callers written before it, and a code that is
 * not the reason's is a TypeError.
 *
 * @example
 * ```ts
 * try { await verifier.verify(token) } catch (err) {
 *   if (isAuthError(err) && err.code === 'invalid_token') { ... }
 * }
 * throw new AuthError('insufficient_scope', { scopes: ['smd.write'] }) // 403
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

  constructor(reason: AuthErrorReason, options?: AuthErrorOptions)
  constructor(...args: CodeAndReason)
  constructor(
    first: AuthErrorReason | AuthErrorCode,
    second?: AuthErrorReason | AuthErrorOptions,
    third?: AuthErrorOptions,
  ) {
    const codeFirst = typeof second === 'string'
    const reason = (codeFirst ? second : first) as AuthErrorReason
    const options = (codeFirst ? third : second) ?? {}
    if (!Object.hasOwn(REASONS, reason)) throw new TypeError(`svcauth: unknown reason ${reason}`)
    const { code, description } = REASONS[reason]
    if (codeFirst && first !== code) {
      throw new TypeError(`svcauth: the code of ${reason} is ${code}, not ${first}`)
    }
    super(description, options.cause === undefined ? undefined : { cause: options.cause })
    this.#options = options
    this.code = code
    this.reason = reason
    this.status = STATUS_BY_CODE[code]
    this.headers = Object.freeze(errorHeaders(code, description, options))
  }

  /** The fixed description sent as `error_description`. */
  get description(): string {
    return this.message
  }

  /** Same error, with the challenge rebuilt for another realm. */
  withRealm(realm: string): AuthError {
    return new AuthError(this.reason, { ...this.#options, realm })
  }

  /**
   * Same error, answered with the DPoP challenges of `dpop` (where DPoP is accepted); a nonce the
   * error already carries is kept.
   */
  withDpop(dpop: DpopChallenge): AuthError {
    const nonce = this.#options.dpop?.nonce
    return new AuthError(this.reason, {
      ...this.#options,
      dpop: nonce === undefined ? dpop : { ...dpop, nonce },
    })
  }
}

/** What a {@link Reject} takes: everything but the realm, which it binds. */
export type RejectOptions = Omit<AuthErrorOptions, 'realm'>

/** Makes the AuthError for a reason in one realm. */
export type Reject = (reason: AuthErrorReason, options?: RejectOptions) => AuthError

/**
 * Binds a realm once (undefined: the default realm): the verifier and everything it calls make
 * their errors through this, so no call site passes a realm or picks a code.
 */
export function rejecter(realm: string | undefined): Reject {
  return function reject(reason, options) {
    return new AuthError(reason, options === undefined ? { realm } : { ...options, realm })
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
  return `Bearer realm="${quoteSafe(realm)}"${errorAttributes(code, description, scopes)}`
}

/** `, error="…", error_description="…"[, scope="…"]`, or nothing for `unauthorized`. */
function errorAttributes(
  code: AuthErrorCode | undefined,
  description: string | undefined,
  scopes: readonly string[] | undefined,
): string {
  if (code === undefined || code === 'unauthorized') return ''
  let value = `, error="${code}"`
  if (description !== undefined) value += `, error_description="${quoteSafe(description)}"`
  if (code === 'insufficient_scope' && scopes !== undefined && scopes.length > 0) {
    value += `, scope="${quoteSafe(scopes.join(' '))}"`
  }
  return value
}

/**
 * `DPoP [error="…", error_description="…", ][scope="…", ]algs="…"` (RFC 9449 §7.1); with no error
 * (or `unauthorized`: no credentials were presented) only the algorithms.
 */
function formatDpopChallenge(
  algs: readonly string[],
  code: AuthErrorCode | undefined,
  description: string | undefined,
  scopes: readonly string[] | undefined,
): string {
  const attributes = errorAttributes(code, description, scopes)
  const list = `algs="${quoteSafe(algs.join(' '))}"`
  return attributes === '' ? `DPoP ${list}` : `DPoP ${attributes.slice(2)}, ${list}`
}

function errorHeaders(
  code: AuthErrorCode,
  description: string,
  options: AuthErrorOptions,
): Record<string, string> {
  if (code === 'temporarily_unavailable') {
    const seconds = Math.max(1, Math.ceil(options.retryAfter ?? 5))
    return { 'Retry-After': String(seconds) }
  }
  const realm = options.realm ?? DEFAULT_REALM
  const { dpop } = options
  if (dpop === undefined) {
    return { 'WWW-Authenticate': formatChallenge(realm, code, description, options.scopes) }
  }
  // The error goes on the challenge of the scheme used; the other scheme is offered plainly.
  const onDpop = dpop.required || dpop.scheme === 'dpop'
  const dpopChallenge = onDpop
    ? formatDpopChallenge(dpop.algs, code, description, options.scopes)
    : formatDpopChallenge(dpop.algs, undefined, undefined, undefined)
  const challenges = dpop.required
    ? dpopChallenge
    : `${onDpop ? formatChallenge(realm) : formatChallenge(realm, code, description, options.scopes)}, ${dpopChallenge}`
  const headers: Record<string, string> = { 'WWW-Authenticate': challenges }
  if (dpop.nonce !== undefined) headers['DPoP-Nonce'] = dpop.nonce
  return headers
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
