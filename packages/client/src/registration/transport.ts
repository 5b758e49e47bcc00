/**
 * One registration request and its answer (RFC 7591, RFC 7592, Hydra's admin API): JSON through
 * the bounded exchange (lib/exchange.ts: one deadline, a 256 KiB answer cap, no redirects). A
 * failed answer becomes a typed RegistrationError carrying the server's OAuth error (RFC 7591
 * §3.2.2) and never a secret; a successful one a RegisteredClient with the secret and the
 * registration access token taken out of its `metadata`.
 */
import type { HttpMethod } from '@svcauth/core/internal'
import { exchange, type ExchangeError } from '../lib/exchange.js'
import { RegistrationError } from './errors.js'
import { nonEmpty, recordToClient, type RegisteredClient, type Transport } from './types.js'

const MAX_BYTES = 262_144

const registrationError: ExchangeError = (code, options) => new RegistrationError(code, options)

/** Sends one JSON request; the answer's status and JSON object (`{}` for an empty or non-JSON error). */
export async function send(
  options: Transport,
  method: HttpMethod,
  url: string,
  headers: Record<string, string>,
  body: Record<string, unknown> | undefined,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await exchange(
    url,
    {
      method,
      headers: {
        ...headers,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    },
    { timeout: options.timeout ?? 10_000, maxBytes: MAX_BYTES, dispatcher: options.dispatcher },
    registrationError,
  )
  const text = res.body.toString('utf8')
  let json: unknown
  try {
    json = text === '' ? {} : JSON.parse(text)
  } catch {
    json = undefined
  }
  const obj =
    typeof json === 'object' && json !== null && !Array.isArray(json)
      ? (json as Record<string, unknown>)
      : undefined
  if (obj === undefined) {
    if (res.status >= 300) return { status: res.status, body: {} }
    throw new RegistrationError('invalid_response', {
      status: res.status,
      description: 'the answer is not a JSON object',
    })
  }
  return { status: res.status, body: obj }
}

/** The RegistrationError for a failed answer: the server's OAuth error, or one by status. */
export function failure(status: number, body: Record<string, unknown>): RegistrationError {
  const error =
    typeof body.error === 'string' && /^[\x20-\x7e]{1,64}$/.test(body.error)
      ? body.error
      : undefined
  const description =
    typeof body.error_description === 'string' ? body.error_description : undefined
  // Hydra answers a duplicate client_id 409 with a generic error name.
  if (status === 409)
    return new RegistrationError('conflict', {
      status,
      ...(description === undefined ? {} : { description }),
    })
  if (status === 404)
    return new RegistrationError('not_found', {
      status,
      ...(description === undefined ? {} : { description }),
    })
  const code =
    error ??
    (status === 401 || status === 403
      ? 'invalid_token'
      : status >= 500
        ? 'server_error'
        : 'invalid_response')
  return new RegistrationError(code, {
    status,
    ...(description === undefined ? {} : { description }),
  })
}

/** The registered client in a successful answer; `invalid_response` without a `client_id`. */
export function parseClient(
  body: Record<string, unknown>,
  status: number,
  mode: 'dcr' | 'hydra-admin',
  adminUrl: string | undefined,
): RegisteredClient {
  const clientId = nonEmpty(body.client_id)
  if (clientId === undefined) {
    throw new RegistrationError('invalid_response', {
      status,
      description: 'no client_id in the answer',
    })
  }
  const { client_secret: _secret, registration_access_token: _rat, ...metadata } = body
  return recordToClient(body, clientId, { mode, adminUrl, metadata })
}
