/**
 * The registration protocol: RFC 7591 dynamic client registration (with an optional initial
 * access token), RFC 7592 read/update/delete with the `registration_access_token`, and Ory
 * Hydra's admin API (`{admin}/admin/clients`), which OpenCHAMI services use to create their client
 * at start-up. Each call checks its options first (a mistake is a TypeError, before any request);
 * requests and answers go through transport.ts.
 */
import { assertUrl, resolveHttpAllowance, type HttpAllowance } from '@svcauth/core/internal'
import { B64TOKEN } from '../lib/b64token.js'
import { RegistrationError } from './errors.js'
import { failure, parseClient, send } from './transport.js'
import type {
  ClientHandle,
  ClientMetadata,
  RegisteredClient,
  RegistrationOptions,
  Transport,
} from './types.js'

/**
 * Registers a client: RFC 7591 or Hydra's admin API. The answer's secret and registration access
 * token are returned to the caller only (persist them with `saveCredentials`).
 *
 * @example
 * ```ts
 * const client = await registerClient({
 *   adminUrl: 'http://hydra:4445',
 *   metadata: { client_name: 'bss', scope: 'smd.read', audience: ['smd'] },
 * })
 * // client.clientId, client.clientSecret, client.registrationAccessToken
 * ```
 */
export async function registerClient(options: RegistrationOptions): Promise<RegisteredClient> {
  const { mode, url } = where(options)
  const metadata = normalizeMetadata(options.metadata ?? {}, mode)
  const headers: Record<string, string> = {}
  if (options.initialAccessToken !== undefined) {
    headers.authorization = `Bearer ${checkToken(options.initialAccessToken)}`
  }
  const { status, body } = await send(options, 'POST', url, headers, metadata)
  if (status !== 201 && status !== 200) throw failure(status, body)
  return parseClient(body, status, mode, mode === 'hydra-admin' ? adminBase(options) : undefined)
}

/**
 * Reads a registration (RFC 7592 §2.1, or `GET {admin}/admin/clients/{id}`).
 *
 * @example
 * ```ts
 * const current = await readClient({ registrationClientUri, registrationAccessToken })
 * ```
 */
export async function readClient(
  handle: ClientHandle,
  options: Transport = {},
): Promise<RegisteredClient> {
  const { url, headers, mode } = manage(handle, options)
  const { status, body } = await send(options, 'GET', url, headers, undefined)
  if (status !== 200) throw failure(status, body)
  return parseClient(body, status, mode, 'adminUrl' in handle ? handle.adminUrl : undefined)
}

/**
 * Replaces a registration's metadata (RFC 7592 §2.2 PUT, or Hydra's admin PUT). The server may
 * issue a new secret (RFC 7592) or keep the one given in `metadata.client_secret`.
 *
 * @example
 * ```ts
 * await updateClient(handle, { client_name: 'bss', scope: 'smd.read smd.write' })
 * ```
 */
export async function updateClient(
  handle: ClientHandle,
  metadata: ClientMetadata,
  options: Transport = {},
): Promise<RegisteredClient> {
  const { url, headers, mode } = manage(handle, options)
  const clientId = handle.clientId
  // RFC 7592 §2.2: server-managed fields are not sent back.
  const {
    registration_access_token: _rat,
    registration_client_uri: _uri,
    client_secret_expires_at: _exp,
    client_id_issued_at: _iat,
    ...editable
  } = metadata
  const body = normalizeMetadata(
    { ...editable, ...(clientId === undefined ? {} : { client_id: clientId }) },
    mode,
  )
  const res = await send(options, 'PUT', url, headers, body)
  if (res.status !== 200) throw failure(res.status, res.body)
  return parseClient(res.body, res.status, mode, 'adminUrl' in handle ? handle.adminUrl : undefined)
}

/**
 * Deletes a registration (RFC 7592 §2.3, or Hydra's admin DELETE). A registration that is
 * already gone resolves too.
 *
 * @example
 * ```ts
 * await deleteClient({ registrationClientUri, registrationAccessToken })
 * ```
 */
export async function deleteClient(handle: ClientHandle, options: Transport = {}): Promise<void> {
  const { url, headers } = manage(handle, options)
  const { status, body } = await send(options, 'DELETE', url, headers, undefined)
  if (status === 204 || status === 200 || status === 404) return
  throw failure(status, body)
}

/**
 * Gives the client a new secret: Hydra's `POST /admin/clients/{id}/secrets/rotate` where the
 * server has it (the old secret keeps working until the rotation is finished), otherwise an
 * update that sets a new random secret (Hydra's admin API) or asks the server for one (RFC 7592).
 * Returns the client with its new secret.
 *
 * @example
 * ```ts
 * const rotated = await rotateClientSecret(stored)
 * await saveCredentials('/var/lib/bss/client.json', rotated)
 * ```
 */
export async function rotateClientSecret(
  client: RegisteredClient,
  options: Transport = {},
): Promise<RegisteredClient> {
  checkTimeout(options)
  if (client.mode === 'hydra-admin') {
    const adminUrl = client.adminUrl
    if (adminUrl === undefined)
      throw new RegistrationError('invalid_request', { description: 'adminUrl unknown' })
    const base = `${adminUrl.replace(/\/+$/, '')}/admin/clients/${encodeURIComponent(client.clientId)}`
    const rotated = await send(options, 'POST', `${base}/secrets/rotate`, {}, undefined)
    if (rotated.status === 200 || rotated.status === 201)
      return parseClient(rotated.body, rotated.status, 'hydra-admin', adminUrl)
    if (rotated.status !== 404 && rotated.status !== 405)
      throw failure(rotated.status, rotated.body)
    const current = await readClient({ adminUrl, clientId: client.clientId }, options)
    const secret = randomSecret()
    const updated = await updateClient(
      { adminUrl, clientId: client.clientId },
      { ...current.metadata, client_secret: secret },
      options,
    )
    return { ...updated, clientSecret: updated.clientSecret ?? secret }
  }
  const uri = client.registrationClientUri
  const token = client.registrationAccessToken
  if (uri === undefined || token === undefined) {
    throw new RegistrationError('invalid_request', {
      description: 'no registration_client_uri or registration_access_token to manage this client',
    })
  }
  const handle = {
    registrationClientUri: uri,
    registrationAccessToken: token,
    clientId: client.clientId,
  }
  const current = await readClient(handle, options)
  const { client_secret: _old, ...metadata } = current.metadata as Record<string, unknown>
  const updated = await updateClient(handle, metadata, options)
  if (updated.clientSecret === undefined || updated.clientSecret === client.clientSecret) {
    throw new RegistrationError('unsupported_operation', {
      description: 'the server kept the old secret; it does not rotate secrets on update',
    })
  }
  return {
    ...updated,
    registrationAccessToken: updated.registrationAccessToken ?? token,
    registrationClientUri: updated.registrationClientUri ?? uri,
  }
}

/**
 * Checks registration options as registerClient would, without a request: for createServiceClient,
 * whose registration runs at the first token request, so that a mistake is a TypeError at
 * construction.
 */
export function checkRegistrationOptions(options: RegistrationOptions): void {
  where(options)
  if (options.initialAccessToken !== undefined) checkToken(options.initialAccessToken)
}

// ------------------------------------------------------------------------------ internals

function where(options: RegistrationOptions): { mode: 'dcr' | 'hydra-admin'; url: string } {
  checkTimeout(options)
  const mode = options.mode ?? (options.registrationEndpoint !== undefined ? 'dcr' : 'hydra-admin')
  if (!['dcr', 'hydra-admin'].includes(mode)) {
    throw new TypeError("svcauth registration: mode must be 'dcr' or 'hydra-admin'")
  }
  const allowHttp = allowance(options)
  if (mode === 'dcr') {
    if (options.registrationEndpoint === undefined) {
      throw new TypeError('svcauth registration: dcr needs registrationEndpoint')
    }
    return {
      mode,
      url: assertUrl('registrationEndpoint', options.registrationEndpoint, allowHttp, false),
    }
  }
  return { mode, url: `${adminBase(options)}/admin/clients` }
}

function adminBase(options: {
  readonly adminUrl?: string | undefined
  readonly allowInsecureHttp?: boolean | readonly string[] | undefined
}): string {
  if (options.adminUrl === undefined) {
    throw new TypeError('svcauth registration: hydra-admin needs adminUrl')
  }
  const url = assertUrl('adminUrl', options.adminUrl, allowance(options), false)
  return url.replace(/\/+$/, '')
}

function manage(
  handle: ClientHandle,
  options: Transport,
): { url: string; headers: Record<string, string>; mode: 'dcr' | 'hydra-admin' } {
  checkTimeout(options)
  if ('adminUrl' in handle) {
    const base = adminBase({
      adminUrl: handle.adminUrl,
      allowInsecureHttp: options.allowInsecureHttp,
    })
    return {
      url: `${base}/admin/clients/${encodeURIComponent(handle.clientId)}`,
      headers: {},
      mode: 'hydra-admin',
    }
  }
  const url = assertUrl(
    'registrationClientUri',
    handle.registrationClientUri,
    allowance(options),
    false,
  )
  return {
    url,
    headers: { authorization: `Bearer ${checkToken(handle.registrationAccessToken)}` },
    mode: 'dcr',
  }
}

/** The `allowInsecureHttp` of registration options, checked (a TypeError for a bad value). */
function allowance(options: {
  readonly allowInsecureHttp?: boolean | readonly string[] | undefined
}): HttpAllowance {
  return resolveHttpAllowance('allowInsecureHttp', options.allowInsecureHttp)
}

/** A timeout of zero, negative or not a number would abort every request before it is sent. */
function checkTimeout(options: Transport): void {
  const { timeout } = options
  if (
    timeout !== undefined &&
    !(typeof timeout === 'number' && timeout > 0 && timeout < Infinity)
  ) {
    throw new TypeError('svcauth registration: timeout must be a number of milliseconds above 0')
  }
}

function checkToken(token: string): string {
  if (typeof token !== 'string' || !B64TOKEN.test(token)) {
    throw new TypeError('svcauth registration: an access token must be a non-empty b64token')
  }
  return token
}

function normalizeMetadata(
  metadata: ClientMetadata,
  mode: 'dcr' | 'hydra-admin',
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...metadata }
  if (Array.isArray(metadata.scope)) out.scope = metadata.scope.join(' ')
  out.grant_types ??= ['client_credentials']
  if ((out.grant_types as string[]).every((g) => g === 'client_credentials')) {
    // A client-credentials-only client has no response types (RFC 7591 §2); Hydra's admin API
    // is given ["token"], as OpenCHAMI's services do.
    out.response_types ??= mode === 'hydra-admin' ? ['token'] : []
    if (mode === 'dcr') out.redirect_uris ??= []
  }
  return out
}

function randomSecret(): string {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
}
