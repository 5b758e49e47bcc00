/**
 * Client registration: RFC 7591 dynamic client registration (with an optional initial access
 * token), RFC 7592 read/update/delete with the `registration_access_token`, and Ory Hydra's admin
 * API (`{admin}/admin/clients`), which OpenCHAMI services use to create their client at start-up.
 * Requests are JSON, with a timeout, a response cap and no redirects; errors are typed
 * `RegistrationError`s (an OutboundError, errors.ts) that never carry a secret.
 */
import { readFile } from 'node:fs/promises'
import { assertUrl } from '@svcauth/core/internal'
import { request, type Dispatcher } from 'undici'
import { AuthorizationServerError, outboundCode, type ServerFailureOptions } from './errors.js'
import { B64TOKEN, readCapped } from './lib/bounded.js'
import { writePrivateFile } from './lib/private-file.js'

/** Where and how to register. */
export interface RegistrationOptions {
  /**
   * `'dcr'`: RFC 7591 at `registrationEndpoint` (Hydra: `{public}/oauth2/register`; discovery's
   * `registration_endpoint`). `'hydra-admin'`: Hydra's admin API at `adminUrl`.
   * @default 'dcr' when `registrationEndpoint` is given, else 'hydra-admin'
   */
  mode?: 'dcr' | 'hydra-admin'
  registrationEndpoint?: string
  /** Hydra's admin base URL, e.g. `http://hydra:4445` (keep it on an internal network). */
  adminUrl?: string
  /** RFC 7591 §3: sent as `Authorization: Bearer …` when the server requires one. */
  initialAccessToken?: string
  /** Client metadata (RFC 7591 §2); `grant_types` defaults to client credentials only. */
  metadata?: ClientMetadata
  /** Allow plain-HTTP URLs on non-loopback hosts (in-cluster servers). @default false */
  allowInsecureHttp?: boolean
  /** ms for the whole request. @default 10000 */
  timeout?: number
  /** undici dispatcher for the requests (proxies, private CAs). */
  dispatcher?: Dispatcher
}

/** RFC 7591 §2 metadata, plus Hydra's `audience` and an optional requested `client_id`. */
export interface ClientMetadata {
  client_id?: string
  client_name?: string
  /** Space-delimited, or a list joined with spaces. */
  scope?: string | readonly string[]
  /** Hydra's audience allow-list for client credentials. */
  audience?: readonly string[]
  grant_types?: readonly string[]
  response_types?: readonly string[]
  redirect_uris?: readonly string[]
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'
  jwks?: { keys: readonly Record<string, unknown>[] }
  jwks_uri?: string
  [name: string]: unknown
}

/** What a registration returns, and what is persisted for later starts. */
export interface RegisteredClient {
  readonly clientId: string
  readonly clientSecret: string | undefined
  /** RFC 7592: the bearer token for reading, updating and deleting this registration. */
  readonly registrationAccessToken: string | undefined
  readonly registrationClientUri: string | undefined
  readonly tokenEndpointAuthMethod: string | undefined
  /** `client_secret_expires_at` (seconds since the epoch; 0 = never). */
  readonly clientSecretExpiresAt: number | undefined
  /** How it was registered, and where: enough for a later read, update or delete. */
  readonly mode: 'dcr' | 'hydra-admin'
  readonly adminUrl?: string | undefined
  /** The server's metadata answer, without the secret and the registration access token. */
  readonly metadata: Readonly<Record<string, unknown>>
}

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

const MAX_BYTES = 262_144

/**
 * Registers a client: RFC 7591 or Hydra's admin API. The answer's secret and registration access
 * token are returned to the caller only (persist them with {@link saveCredentials}).
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

/** Where a registration is managed: its RFC 7592 URI and token, or Hydra's admin API and id. */
export type ClientHandle =
  | {
      readonly registrationClientUri: string
      readonly registrationAccessToken: string
      readonly clientId?: string
    }
  | { readonly adminUrl: string; readonly clientId: string }

type Transport = Pick<RegistrationOptions, 'allowInsecureHttp' | 'timeout' | 'dispatcher'>

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

// ------------------------------------------------------------------------------ persistence

/**
 * Writes the credentials to `file` with mode 0600 (atomically: a temporary file with a random
 * name created exclusively, then a rename), creating its directory with mode 0700 when missing.
 * A symlink or file planted at a temporary name is never followed or reused, and a symlink at
 * `file` is replaced, not written through.
 *
 * @example
 * ```ts
 * await saveCredentials('/var/lib/bss/client.json', client)
 * ```
 */
export async function saveCredentials(file: string, client: RegisteredClient): Promise<void> {
  const json = `${JSON.stringify(
    {
      client_id: client.clientId,
      client_secret: client.clientSecret,
      registration_access_token: client.registrationAccessToken,
      registration_client_uri: client.registrationClientUri,
      token_endpoint_auth_method: client.tokenEndpointAuthMethod,
      client_secret_expires_at: client.clientSecretExpiresAt,
      mode: client.mode,
      admin_url: client.adminUrl,
      metadata: client.metadata,
    },
    null,
    2,
  )}\n`
  try {
    await writePrivateFile(file, json)
  } catch (cause) {
    throw new RegistrationError('storage_error', {
      description: `cannot write ${file}`,
      cause,
    })
  }
}

/**
 * Reads credentials written by {@link saveCredentials}; undefined when the file does not exist.
 *
 * @example
 * ```ts
 * const stored = await loadCredentials('/var/lib/bss/client.json')
 * ```
 */
export async function loadCredentials(file: string): Promise<RegisteredClient | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    if ((cause as { code?: unknown }).code === 'ENOENT') return undefined
    throw new RegistrationError('storage_error', { description: `cannot read ${file}`, cause })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new RegistrationError('storage_error', { description: `${file} is not JSON`, cause })
  }
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>
  if (typeof o.client_id !== 'string' || o.client_id === '') {
    throw new RegistrationError('storage_error', { description: `${file} has no client_id` })
  }
  return Object.freeze({
    clientId: o.client_id,
    clientSecret: str(o.client_secret),
    registrationAccessToken: str(o.registration_access_token),
    registrationClientUri: str(o.registration_client_uri),
    tokenEndpointAuthMethod: str(o.token_endpoint_auth_method),
    clientSecretExpiresAt:
      typeof o.client_secret_expires_at === 'number' ? o.client_secret_expires_at : undefined,
    mode: o.mode === 'hydra-admin' ? 'hydra-admin' : 'dcr',
    adminUrl: str(o.admin_url),
    metadata: Object.freeze(
      (typeof o.metadata === 'object' && o.metadata !== null ? o.metadata : {}) as Record<
        string,
        unknown
      >,
    ),
  })
}

/**
 * The credentials in `file`, or, when there are none yet, a new registration saved there.
 * A registration that conflicts with an existing client (409: another replica registered the same
 * `client_id` first) uses the file if it has appeared meanwhile, and fails otherwise: the secret
 * of an existing client is only in the answer that created it.
 *
 * @example
 * ```ts
 * const { clientId, clientSecret } = await loadOrRegister('/var/lib/bss/client.json', { adminUrl, metadata })
 * ```
 */
export async function loadOrRegister(
  file: string,
  options: RegistrationOptions,
): Promise<RegisteredClient> {
  const stored = await loadCredentials(file)
  if (stored !== undefined) return stored
  let client: RegisteredClient
  try {
    client = await registerClient(options)
  } catch (err) {
    if (isRegistrationError(err) && err.error === 'conflict') {
      const appeared = await loadCredentials(file)
      if (appeared !== undefined) return appeared
    }
    throw err
  }
  await saveCredentials(file, client)
  return client
}

// ------------------------------------------------------------------------------ internals

function where(options: RegistrationOptions): { mode: 'dcr' | 'hydra-admin'; url: string } {
  const mode = options.mode ?? (options.registrationEndpoint !== undefined ? 'dcr' : 'hydra-admin')
  const allowHttp = options.allowInsecureHttp === true
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
  readonly allowInsecureHttp?: boolean | undefined
}): string {
  if (options.adminUrl === undefined) {
    throw new TypeError('svcauth registration: hydra-admin needs adminUrl')
  }
  const url = assertUrl('adminUrl', options.adminUrl, options.allowInsecureHttp === true, false)
  return url.replace(/\/+$/, '')
}

function manage(
  handle: ClientHandle,
  options: Transport,
): { url: string; headers: Record<string, string>; mode: 'dcr' | 'hydra-admin' } {
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
    options.allowInsecureHttp === true,
    false,
  )
  return {
    url,
    headers: { authorization: `Bearer ${checkToken(handle.registrationAccessToken)}` },
    mode: 'dcr',
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

async function send(
  options: Transport,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  headers: Record<string, string>,
  body: Record<string, unknown> | undefined,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const timeout = options.timeout ?? 10_000
  let res: Dispatcher.ResponseData
  try {
    res = await request(url, {
      method,
      headers: {
        ...headers,
        accept: 'application/json',
        'user-agent': 'svcauth',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeout),
      headersTimeout: timeout,
      bodyTimeout: timeout,
      ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    })
  } catch (cause) {
    throw new RegistrationError('network_error', { cause })
  }
  const text = await readCapped(res, MAX_BYTES, (code, o) => new RegistrationError(code, o))
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
    if (res.statusCode >= 300) return { status: res.statusCode, body: {} }
    throw new RegistrationError('invalid_response', {
      status: res.statusCode,
      description: 'the answer is not a JSON object',
    })
  }
  return { status: res.statusCode, body: obj }
}

function failure(status: number, body: Record<string, unknown>): RegistrationError {
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

function parseClient(
  body: Record<string, unknown>,
  status: number,
  mode: 'dcr' | 'hydra-admin',
  adminUrl: string | undefined,
): RegisteredClient {
  const clientId = str(body.client_id)
  if (clientId === undefined) {
    throw new RegistrationError('invalid_response', {
      status,
      description: 'no client_id in the answer',
    })
  }
  const { client_secret: secret, registration_access_token: rat, ...metadata } = body
  return Object.freeze({
    clientId,
    clientSecret: str(secret),
    registrationAccessToken: str(rat),
    registrationClientUri: str(body.registration_client_uri),
    tokenEndpointAuthMethod: str(body.token_endpoint_auth_method),
    clientSecretExpiresAt:
      typeof body.client_secret_expires_at === 'number' ? body.client_secret_expires_at : undefined,
    mode,
    adminUrl,
    metadata: Object.freeze(metadata),
  })
}

/** A non-empty string, else undefined. */
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

function randomSecret(): string {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
}
