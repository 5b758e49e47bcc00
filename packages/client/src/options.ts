/**
 * The options of createServiceClient, as the caller writes them. They are checked, defaulted and
 * frozen once, at construction, by resolve-options.ts (mistakes are TypeErrors there).
 */
import type { KeyObject } from 'node:crypto'
import type { Logger, SvcauthStores } from '@svcauth/core'
import type { CryptoKey, JWK } from 'jose'
import type { Dispatcher } from 'undici'
import type { AuthMethod } from './lib/client-auth.js'
import type { DpopKeyOptions } from './lib/dpop-key.js'
import type { ClientTlsOptions } from './lib/tls-options.js'
import type { RegistrationOptions } from './registration/types.js'

/** How a target treats the caller's user token. */
export type UserTokenMode = 'forward' | 'exchange' | 'never'

/** What one downstream origin gets. */
export interface TargetConfig {
  /** Scopes to request for this target. */
  scope?: string | readonly string[]
  /**
   * The audience(s) this target accepts in `aud`, requested as Hydra's `audience` parameter (and
   * RFC 8693's, for exchanges).
   */
  audience?: string | readonly string[]
  /**
   * RFC 8707 `resource` indicator(s) to request. May be given with `audience` when the server maps
   * a resource to an `aud` of another name (oidc-provider: `urn:smd` → `smd`); both are then sent.
   */
  resource?: string | readonly string[]
  /**
   * During a request authenticated with a *user* token: `forward` it unchanged, `exchange` it
   * (RFC 8693) for a token for this target, or `never` (use the service's own token). Requests
   * authenticated with a client token, and calls outside any request, always use the service's token.
   * `forward` needs `audience` or `resource`: a user's token is forwarded only when its `aud`
   * contains one of them, else the call fails with `UserTokenRefusedError` and is not sent.
   * @default 'never'
   */
  userToken?: UserTokenMode
  /**
   * Mutual TLS with this target (RFC 8705), https only: its own client certificate and/or CAs,
   * replacing the client's `tls` for it (nothing is merged), or `false` to present no client
   * certificate and trust Node's default CAs. A certificate-bound token (one the client obtained
   * while presenting its certificate) is sent only when this target's connections present that
   * same certificate; otherwise the call fails with CertificateBindingError and is not sent.
   * @default the client's `tls`
   */
  tls?: ClientTlsOptions | false
}

/** A secret, a `[current, previous]` pair, or a provider re-read on `invalid_client`. */
export type SecretSource =
  | string
  | readonly string[]
  | (() => string | readonly string[] | Promise<string | readonly string[]>)

export interface ServiceClientOptions {
  /** Token endpoint URL; or give `issuer` to discover it. */
  tokenEndpoint?: string
  /** Issuer whose metadata names the token endpoint (used when `tokenEndpoint` is absent). */
  issuer?: string
  /** The client id; omit it with `registration`, which supplies it. */
  clientId?: string
  /** Required for the client_secret_* methods (unless `registration` supplies it). */
  clientSecret?: SecretSource
  /**
   * Register the client on first start and keep its credentials in `credentialsFile` (mode 0600);
   * later starts reuse the file. Registration happens before the first token request, not at
   * construction, so a service starts even while the authorization server is down.
   */
  registration?: RegistrationOptions & { credentialsFile: string }
  /**
   * Token endpoint authentication. `tls_client_auth` and `self_signed_tls_client_auth` (RFC 8705
   * §2) authenticate with the certificate of `tls`, sending `client_id` and no secret.
   * @default 'client_secret_basic'
   */
  authMethod?: AuthMethod
  /** Private key for `private_key_jwt` (CryptoKey, KeyObject or private JWK). */
  privateKey?: CryptoKey | KeyObject | JWK
  /** `kid` for the client assertion header. */
  privateKeyId?: string
  /** Assertion algorithm. @default the JWK's `alg`, else 'RS256' */
  privateKeyAlg?: string
  /** `aud` of the client assertion. @default the token endpoint URL */
  assertionAudience?: string
  /** Downstream origins (`scheme://host:port`) and what each gets; no other origin gets a token. */
  targets: Readonly<Record<string, TargetConfig>>
  /**
   * DPoP (RFC 9449): bind the service's tokens to a key it proves it holds on every call. `true`
   * generates a P-256 key pair (ES256) at construction; `{ privateKey, alg }` uses a given key (a
   * KeyObject, a CryptoKey or a private JWK). Every token request then carries a proof, and a
   * token the server issues as `token_type: DPoP` is sent as `Authorization: DPoP` with a fresh
   * proof per call; a `Bearer` answer (a server that ignores DPoP) is used as Bearer.
   * @default false
   */
  dpop?: boolean | DpopKeyOptions
  /**
   * Mutual TLS (RFC 8705): a client certificate and key (`cert`/`key` as PEM, or
   * `certFile`/`keyFile`, re-read when they change) and the CAs to trust (`ca` or `caFile`).
   * Token requests and discovery present the certificate (with `issuer`, token requests go to the
   * metadata's `mtls_endpoint_aliases.token_endpoint` when it has one, §5), and so do https
   * targets without a `tls` of their own. Tokens obtained while presenting it are taken as bound to
   * it (§3) and sent only over connections that present it; a renewed certificate gets new tokens.
   * Needs the client's own Agents: not with `dispatcher` or `tokenDispatcher`.
   */
  tls?: ClientTlsOptions
  /** Token request timeout, ms, from 1 to 120000. @default 10000 */
  timeout?: number
  /** Token response cap, bytes, from 1 to 16 MiB. @default 65536 */
  maxResponseBytes?: number
  /** Lifetime assumed when `expires_in` is missing, seconds, from 1 to 86400. @default 60 */
  defaultLifetime?: number
  /** Longest lifetime believed, seconds, from 1 to 30 days. @default 86400 */
  maxLifetime?: number
  /** Refresh at most this many seconds (0 to 3600) before expiry, or at 80% of the lifetime if earlier. @default 30 */
  refreshSkew?: number
  /**
   * With `issuer`: the token endpoint is discovered again after a token request fails in a way
   * that suggests it moved (network error, 404, 405, 410, 5xx), at most once per `cooldown` ms,
   * and in the background on a token request once the last discovery is `refreshInterval` ms old.
   * A failed discovery keeps the last good endpoint. `cooldown` from 0 to 1 hour, `refreshInterval`
   * from 0 to 1 day.
   * @default { cooldown: 5000, refreshInterval: 600000 }
   */
  discovery?: { cooldown?: number; refreshInterval?: number }
  /** Backoff after token endpoint failures, ms, each from 0 to 1 hour. @default { minDelay: 1000, maxDelay: 60000 } */
  retry?: { minDelay?: number; maxDelay?: number }
  /**
   * Request bodies up to this size (0 to 64 MiB) are buffered so a call can be replayed after a
   * 401; 0 buffers no stream. @default 1048576
   */
  maxReplayBytes?: number
  /** Most cached tokens (service and exchanged), a whole number from 1 to 1000000. @default 1000 */
  maxCachedTokens?: number
  /**
   * Plain HTTP off loopback (in-cluster servers): `true` for every host, or the origins allowed,
   * e.g. `['http://hydra:4444', 'http://hydra:4445']`. Applies to `issuer`, `tokenEndpoint`, the
   * discovered token endpoint and `registration` (unless it has its own); checked at
   * construction. Not to `targets`: each target origin is named explicitly, so listing an
   * `http://` target is the opt-in for it. @default false
   */
  allowInsecureHttp?: boolean | readonly string[]
  /**
   * Dispatcher the downstream calls go through (composed with the token interceptor); not with
   * `tls` (the client then makes its own Agents).
   * @default a new undici Agent
   */
  dispatcher?: Dispatcher
  /** Dispatcher for token requests; not with `tls`. @default undici's global dispatcher */
  tokenDispatcher?: Dispatcher
  /**
   * Shared state of a fleet (issue 21), e.g. `redisStores(...)` from `@svcauth/redis`, the same
   * object given to `authenticate()`. The client uses `tokens` (its client-credentials tokens,
   * shared by every replica) and `lock` (one token request for the whole fleet on a cold start or
   * a refresh), and ignores the rest; `lock` without `tokens` does nothing. Not shared: exchanged
   * tokens (per user), and every token of a client with `dpop` or a client certificate (bound to
   * this replica's key). A store that fails or is slow is skipped: each replica then requests its
   * own tokens, as without `stores`.
   * @default no shared state: each process caches its own tokens
   */
  stores?: SvcauthStores
  /** pino-compatible logger for token fetches and failures (never tokens or secrets). */
  logger?: Logger & { info?(obj: Record<string, unknown>, msg?: string): void }
}

/** The logger option; `info` is used when present (token fetches, endpoint changes). */
export type ClientLogger = NonNullable<ServiceClientOptions['logger']>
