/**
 * The outbound errors: one family under `OutboundError`. Each means the call or the operation did
 * not happen (fail closed), and none carries a secret or a token.
 *
 * One convention for what an error says:
 * - `code` is the kind of failure, from the closed set {@link OutboundErrorCode}. It is stable and
 *   survives the package being loaded twice (a second copy's classes fail `instanceof`), so
 *   branch on it, or on the `is…Error` guards, which read it.
 * - `error`, on the failures at an authorization server's endpoint (TokenEndpointError,
 *   RegistrationError), is the OAuth error code the server answered (RFC 6749 §5.2, RFC 8693
 *   §2.2.2, RFC 7591 §3.2.2), or a local code in the same style when it answered none
 *   (`network_error`, `invalid_response`, …); `status` is then the server's HTTP status, if any.
 *
 * The kinds: `ERR_TOKEN_ENDPOINT`, a token could not be obtained (TokenEndpointError);
 * `ERR_CLIENT_REGISTRATION`, registering or managing the client failed (RegistrationError, in
 * registration/errors.ts); `ERR_USER_TOKEN_REFUSED`, the caller's user token may not go to this
 * target because it was not issued for it (UserTokenRefusedError, RFC 6750 §5.3, RFC 8707 §2) or
 * is bound to its holder's key (RFC 9449 §6); `ERR_CERTIFICATE_BINDING`, a certificate-bound token
 * was not sent because the target's connections would not present its certificate
 * (CertificateBindingError, RFC 8705 §3).
 */

/**
 * The kind of an outbound failure: `err.code` of every {@link OutboundError}. Closed: a new kind
 * is a new member here and a new class below.
 */
export type OutboundErrorCode =
  | 'ERR_TOKEN_ENDPOINT'
  | 'ERR_CLIENT_REGISTRATION'
  | 'ERR_USER_TOKEN_REFUSED'
  | 'ERR_CERTIFICATE_BINDING'

const OUTBOUND_CODES: ReadonlySet<string> = new Set<OutboundErrorCode>([
  'ERR_TOKEN_ENDPOINT',
  'ERR_CLIENT_REGISTRATION',
  'ERR_USER_TOKEN_REFUSED',
  'ERR_CERTIFICATE_BINDING',
])

/**
 * The base of the outbound errors; `code` says which one (see the module header for the
 * convention).
 *
 * @example
 * ```ts
 * try { await svc.getToken('http://smd:27779') } catch (err) {
 *   if (isOutboundError(err)) logger.error({ code: err.code }, err.message)
 * }
 * ```
 */
export abstract class OutboundError extends Error {
  abstract readonly code: OutboundErrorCode
}

/** The `code` of an error-like value from any copy of this package, else undefined. */
export function outboundCode(err: unknown): OutboundErrorCode | undefined {
  const code =
    typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  return typeof code === 'string' && OUTBOUND_CODES.has(code)
    ? (code as OutboundErrorCode)
    : undefined
}

/** True for any outbound error from any copy of this package. */
export function isOutboundError(err: unknown): err is OutboundError {
  return outboundCode(err) !== undefined
}

/** What a failure at an authorization server's endpoint may add to its OAuth `error`. */
export interface ServerFailureOptions {
  /** The HTTP status of the answer, when there was one. */
  status?: number
  /** The server's `error_description` (truncated to 200 characters), or a local explanation. */
  description?: string
  /**
   * The endpoint's origin (`scheme://host[:port]`, never a path or query, which may carry a
   * secret), when the failure is about reaching it (`network_error`, `invalid_response`).
   */
  origin?: string
  cause?: unknown
}

/**
 * A failure at an authorization server's endpoint: `error` is its OAuth error code or a local one
 * (the convention in the module header), `status` its HTTP status, `description` its
 * `error_description`, truncated.
 */
export abstract class AuthorizationServerError<E extends string> extends OutboundError {
  readonly error: E
  readonly status: number | undefined
  readonly description: string | undefined
  /** The endpoint's origin, when the failure is about reaching it (see ServerFailureOptions). */
  readonly origin: string | undefined

  /**
   * `what` names the operation in the message: "`what` failed: `error` (HTTP `status`)", and
   * "`what` to `origin` failed: …" when the origin is known (issue 16, item 4: a network_error
   * that names no server sends the operator looking in the wrong place).
   */
  protected constructor(what: string, error: E, options: ServerFailureOptions) {
    const to = options.origin === undefined ? '' : ` to ${options.origin}`
    super(
      `${what}${to} failed: ${error}${options.status === undefined ? '' : ` (HTTP ${options.status})`}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.error = error
    this.status = options.status
    this.description = options.description?.slice(0, 200)
    this.origin = options.origin
  }
}

/**
 * OAuth error codes from the token endpoint (RFC 6749 §5.2, RFC 8693 §2.2.2, RFC 9449 §5 and §8
 * for the DPoP ones), or a local one.
 */
export type TokenErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
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
 *   if (isTokenEndpointError(err) && err.error === 'invalid_client') alertOps()
 *   throw err
 * }
 * ```
 */
export class TokenEndpointError extends AuthorizationServerError<TokenErrorCode> {
  override readonly name = 'TokenEndpointError'
  override readonly code = 'ERR_TOKEN_ENDPOINT'
  /** Seconds the server asked us to wait (`Retry-After`). */
  readonly retryAfter: number | undefined

  constructor(error: TokenErrorCode, options: ServerFailureOptions & { retryAfter?: number } = {}) {
    super('token request', error, options)
    this.retryAfter = options.retryAfter
  }

  /** True when retrying later can help (5xx, 429, network, malformed answers). */
  get retryable(): boolean {
    return !PERMANENT.has(this.error)
  }
}

/** True for a TokenEndpointError from any copy of this package. */
export function isTokenEndpointError(err: unknown): err is TokenEndpointError {
  return outboundCode(err) === 'ERR_TOKEN_ENDPOINT'
}

/**
 * Why a user's token was not forwarded: `not_issued_for_target`, its `aud` names neither the
 * target's `audience` nor its `resource` (RFC 6750 §5.3); `sender_constrained`, it is bound to
 * its holder's key (a `cnf` claim: DPoP, RFC 9449 §6, or mTLS, RFC 8705 §3), so it works for no
 * one else and this service cannot present it (use `userToken: 'exchange'` for that target).
 */
export type UserTokenRefusal = 'not_issued_for_target' | 'sender_constrained'

const REFUSALS: Readonly<Record<UserTokenRefusal, string>> = {
  not_issued_for_target:
    "the user's token is not issued for this target (its aud names neither the target's audience nor its resource); the call was not sent",
  sender_constrained:
    "the user's token is sender-constrained (a cnf claim binds it to the caller's key), so it cannot be forwarded; exchange it (userToken: 'exchange') instead; the call was not sent",
}

/**
 * A user's token was not forwarded, and the call was not sent: `reason` says why (its `aud` does
 * not name the target, or it is bound to its holder's key). `status` (403) and `expose` tell an
 * error handler (Koa's default, Express's finalhandler) what to answer the inbound caller.
 * Carries the target origin, never the token. No server was asked, so it has no OAuth `error`.
 *
 * @example
 * ```ts
 * try { await req.outbound!.fetch(url) } catch (err) {
 *   if (isUserTokenRefusedError(err)) return res.status(err.status).json({ error: err.code, reason: err.reason })
 *   throw err
 * }
 * ```
 */
export class UserTokenRefusedError extends OutboundError {
  override readonly name = 'UserTokenRefusedError'
  override readonly code = 'ERR_USER_TOKEN_REFUSED'
  /** The target the call was for (`scheme://host:port`). */
  readonly origin: string
  /** Why the token was not forwarded. */
  readonly reason: UserTokenRefusal
  /** What to answer the inbound caller: its token does not reach this target. */
  readonly status = 403
  readonly expose = true

  constructor(origin: string, reason: UserTokenRefusal = 'not_issued_for_target') {
    super(REFUSALS[reason])
    this.origin = origin
    this.reason = reason
  }
}

/** True for a UserTokenRefusedError from any copy of this package. */
export function isUserTokenRefusedError(err: unknown): err is UserTokenRefusedError {
  return outboundCode(err) === 'ERR_USER_TOKEN_REFUSED'
}

/**
 * Why a certificate-bound token was not sent: `no_certificate`, the target's connections present
 * no client certificate (an http target, `tls: false`, or a `tls` with CAs only); `other_certificate`,
 * they present another one (the target's own `tls`).
 */
export type CertificateBindingFailure = 'no_certificate' | 'other_certificate'

/**
 * A certificate-bound token (RFC 8705 §3: obtained while presenting the client's certificate) was
 * not sent, and the call was not made, because the target's connections would not present that
 * certificate: the target would refuse the token, and it would have been shown to a party it is
 * not bound for. A configuration mistake (the target's `tls`), not a failure to retry. Carries
 * the target origin and the thumbprints (public), never the token.
 *
 * @example
 * ```ts
 * try { await svc.fetch('https://smd:27779/x') } catch (err) {
 *   if (isCertificateBindingError(err)) logger.error({ origin: err.origin, reason: err.reason }, err.message)
 * }
 * ```
 */
export class CertificateBindingError extends OutboundError {
  override readonly name = 'CertificateBindingError'
  override readonly code = 'ERR_CERTIFICATE_BINDING'
  /** The target the call was for (`scheme://host:port`). */
  readonly origin: string
  readonly reason: CertificateBindingFailure
  /** `x5t#S256` of the certificate the token is bound to. */
  readonly certificate: string
  /** `x5t#S256` of the certificate the target's connections present; undefined: none. */
  readonly presented: string | undefined

  constructor(origin: string, certificate: string, presented: string | undefined) {
    const reason: CertificateBindingFailure =
      presented === undefined ? 'no_certificate' : 'other_certificate'
    super(
      reason === 'no_certificate'
        ? `the service's token is bound to its TLS client certificate, and connections to ${origin} present none; the call was not sent`
        : `the service's token is bound to its TLS client certificate, and connections to ${origin} present another one (see the target's tls); the call was not sent`,
    )
    this.origin = origin
    this.reason = reason
    this.certificate = certificate
    this.presented = presented
  }
}

/** True for a CertificateBindingError from any copy of this package. */
export function isCertificateBindingError(err: unknown): err is CertificateBindingError {
  return outboundCode(err) === 'ERR_CERTIFICATE_BINDING'
}
