/**
 * What a registration is: where and how to register (RFC 7591, RFC 7592, Hydra's admin API), the
 * client metadata sent (RFC 7591 §2), the registered client returned and persisted, and the
 * handle a later read, update or delete needs. Also the one mapping from the snake_case record
 * form (a server's answer, RFC 7591 §3.2.1, or the credentials file) to a RegisteredClient.
 */
import type { AuthMethod } from '../lib/client-auth.js'
import type { Dispatcher } from 'undici'

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
  /**
   * Plain HTTP off loopback (in-cluster servers): `true` for every host, or the origins allowed,
   * e.g. `['http://hydra:4445']`. Within createServiceClient: the client's `allowInsecureHttp`
   * when not given here. @default false
   */
  allowInsecureHttp?: boolean | readonly string[]
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
  /** With `tls_client_auth`, also give `tls_client_auth_subject_dn` (or a SAN member), RFC 8705 §2.1.2. */
  token_endpoint_auth_method?: AuthMethod
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

/** Where a registration is managed: its RFC 7592 URI and token, or Hydra's admin API and id. */
export type ClientHandle =
  | {
      readonly registrationClientUri: string
      readonly registrationAccessToken: string
      readonly clientId?: string
    }
  | { readonly adminUrl: string; readonly clientId: string }

/** The request settings every registration call takes. */
export type Transport = Pick<RegistrationOptions, 'allowInsecureHttp' | 'timeout' | 'dispatcher'>

/** The snake_case fields of a registration record (RFC 7591 §3.2.1), as a RegisteredClient. */
export function recordToClient(
  record: Readonly<Record<string, unknown>>,
  clientId: string,
  origin: {
    readonly mode: 'dcr' | 'hydra-admin'
    readonly adminUrl: string | undefined
    readonly metadata: Record<string, unknown>
  },
): RegisteredClient {
  return Object.freeze({
    clientId,
    clientSecret: nonEmpty(record.client_secret),
    registrationAccessToken: nonEmpty(record.registration_access_token),
    registrationClientUri: nonEmpty(record.registration_client_uri),
    tokenEndpointAuthMethod: nonEmpty(record.token_endpoint_auth_method),
    clientSecretExpiresAt:
      typeof record.client_secret_expires_at === 'number'
        ? record.client_secret_expires_at
        : undefined,
    mode: origin.mode,
    adminUrl: origin.adminUrl,
    metadata: Object.freeze(origin.metadata),
  })
}

/** A non-empty string, else undefined. */
export function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}
