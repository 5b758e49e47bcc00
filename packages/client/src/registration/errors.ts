/**
 * The registration error: a client registration or management request failed (RFC 7591 §3.2.2,
 * RFC 7592, Hydra's admin API), or its credentials file could not be read or written. One of the
 * outbound errors (errors.ts): `code` is `ERR_CLIENT_REGISTRATION`, `error` the server's OAuth
 * error or a local one.
 */
import { AuthorizationServerError, outboundCode, type ServerFailureOptions } from '../errors.js'

/** Registration error codes: RFC 7591 §3.2.2, RFC 6750 for the tokens, and local ones. */
export type RegistrationErrorCode =
  | 'invalid_client_metadata'
  | 'invalid_redirect_uri'
  | 'invalid_software_statement'
  | 'unapproved_software_statement'
  | 'invalid_token'
  | 'conflict'
  | 'not_found'
  | 'server_error'
  | 'invalid_response'
  | 'network_error'
  | 'storage_error'
  | (string & {})

/**
 * A registration request failed. `error` is the server's OAuth error or a local code
 * (`conflict` for an existing client, `not_found`, `network_error`, `invalid_response`,
 * `storage_error`); never carries a secret or token.
 *
 * @example
 * ```ts
 * try { await registerClient(opts) } catch (err) {
 *   if (isRegistrationError(err) && err.error === 'invalid_token') logger.error({ error: err.error }, 'initial access token rejected')
 * }
 * ```
 */
export class RegistrationError extends AuthorizationServerError<RegistrationErrorCode> {
  override readonly name = 'RegistrationError'
  override readonly code = 'ERR_CLIENT_REGISTRATION'

  constructor(error: RegistrationErrorCode, options: ServerFailureOptions = {}) {
    super('client registration', error, options)
  }
}

/** True for a RegistrationError from any copy of this package. */
export function isRegistrationError(err: unknown): err is RegistrationError {
  return outboundCode(err) === 'ERR_CLIENT_REGISTRATION'
}
