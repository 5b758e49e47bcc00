/**
 * How `register` and `rotate-secret` explain a failed registration request (RFC 7591 §3.2.2,
 * RFC 7592, Hydra's admin API): the error, the server's description and what it usually means,
 * and the exit code (3 when the server could not be reached or answered garbage, else 1).
 */
import { isRegistrationError } from '@svcauth/client'
import type { CliIo } from './io.js'
import { EXIT } from './output.js'

const REGISTRATION_HINTS: Readonly<Record<string, string>> = {
  invalid_token:
    'the server wants an initial access token (or a valid registration access token) for this',
  conflict:
    'a client with this id exists already; its secret was only in the answer that created it',
  invalid_client_metadata: 'the server refused the client metadata',
  not_found: 'no such client (or the server does not offer this operation)',
  network_error: 'the server could not be reached',
  storage_error: 'the credentials file could not be read or written',
  unsupported_operation:
    'this server does not issue a new secret on update (RFC 7592 allows it, does not require it): rotate the secret at the server and put it in the file',
}

/** Prints a RegistrationError and gives the exit code; anything else is thrown on. */
export function registrationFailure(err: unknown, io: CliIo, what = 'registration'): number {
  if (!isRegistrationError(err)) throw err
  io.stderr.write(
    `svcauth: ${what} failed: ${err.error}${err.status === undefined ? '' : ` (HTTP ${String(err.status)})`}\n` +
      (err.description === undefined ? '' : `  server says: ${err.description}\n`) +
      (REGISTRATION_HINTS[err.error] === undefined
        ? ''
        : `  meaning: ${REGISTRATION_HINTS[err.error] ?? ''}\n`),
  )
  return err.error === 'network_error' ||
    err.error === 'server_error' ||
    err.error === 'invalid_response'
    ? EXIT.unreachable
    : EXIT.refused
}
