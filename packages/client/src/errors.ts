/**
 * The outbound errors. Both mean the call was not sent (fail closed): `TokenEndpointError`, a
 * token could not be obtained (RFC 6749 §5.2); `UserTokenRefusedError`, the caller's user token
 * may not go to this target because it was not issued for it (RFC 6750 §5.3, RFC 8707 §2).
 */

/** OAuth error codes from the token endpoint (RFC 6749 §5.2, RFC 8693 §2.2.2), or a local one. */
export type TokenErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_response'
  | 'network_error'
  | (string & {})

/** Errors that retrying cannot fix: the configuration or the client registration is wrong. */
const PERMANENT: ReadonlySet<string> = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
])

/**
 * A token request failed. `error` is the OAuth error code (or `invalid_response`,
 * `network_error`); `status` the HTTP status when there was one. Never carries a secret or token.
 *
 * @example
 * ```ts
 * try { await svc.fetch(url) } catch (err) {
 *   if (isTokenEndpointError(err.cause ?? err) && err.error === 'invalid_client') alertOps()
 * }
 * ```
 */
export class TokenEndpointError extends Error {
  override readonly name = 'TokenEndpointError'
  readonly code = 'ERR_TOKEN_ENDPOINT'
  readonly error: TokenErrorCode
  readonly status: number | undefined
  /** The server's `error_description`, truncated. */
  readonly description: string | undefined
  /** Seconds the server asked us to wait (`Retry-After`). */
  readonly retryAfter: number | undefined

  constructor(
    error: TokenErrorCode,
    options: { status?: number; description?: string; retryAfter?: number; cause?: unknown } = {},
  ) {
    const description = options.description?.slice(0, 200)
    super(
      `token request failed: ${error}${options.status === undefined ? '' : ` (HTTP ${options.status})`}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.error = error
    this.status = options.status
    this.description = description
    this.retryAfter = options.retryAfter
  }

  /** True when retrying later can help (5xx, 429, network, malformed answers). */
  get retryable(): boolean {
    return !PERMANENT.has(this.error)
  }
}

/** True for a TokenEndpointError from any copy of this package. */
export function isTokenEndpointError(err: unknown): err is TokenEndpointError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { code?: unknown }).code === 'ERR_TOKEN_ENDPOINT'
  )
}

/**
 * A user's token was not forwarded: its `aud` names neither the target's `audience` nor its
 * `resource`, so the target is not a party the token was issued for. The call was not sent.
 * `status` (403) and `expose` tell an error handler (Koa's default, Express's finalhandler) what
 * to answer the inbound caller. Carries the target origin, never the token.
 *
 * @example
 * ```ts
 * try { await req.outbound!.fetch(url) } catch (err) {
 *   const cause = err instanceof TypeError ? err.cause : err // fetch wraps dispatcher errors
 *   if (isUserTokenRefusedError(cause)) return res.status(cause.status).json({ error: cause.code })
 *   throw err
 * }
 * ```
 */
export class UserTokenRefusedError extends Error {
  override readonly name = 'UserTokenRefusedError'
  readonly code = 'ERR_USER_TOKEN_REFUSED'
  /** The target the call was for (`scheme://host:port`). */
  readonly origin: string
  /** What to answer the inbound caller: its token does not reach this target. */
  readonly status = 403
  readonly expose = true

  constructor(origin: string) {
    super(
      "the user's token is not issued for this target (its aud names neither the target's audience nor its resource); the call was not sent",
    )
    this.origin = origin
  }
}

/** True for a UserTokenRefusedError from any copy of this package. */
export function isUserTokenRefusedError(err: unknown): err is UserTokenRefusedError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { code?: unknown }).code === 'ERR_USER_TOKEN_REFUSED'
  )
}
