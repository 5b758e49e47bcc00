/**
 * Options of createServiceClient, validated once (mistakes are TypeErrors at construction),
 * never mutated, frozen.
 */
import type { KeyObject } from 'node:crypto'
import type { Logger } from '@svcauth/core'
import type { CryptoKey, JWK } from 'jose'
import type { Dispatcher } from 'undici'
import type { AuthMethod } from './lib/client-auth.js'
import type { RegistrationOptions } from './registration.js'

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
  /** @default 'client_secret_basic' */
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
  /** Token request timeout, ms. @default 10000 */
  timeout?: number
  /** Token response cap, bytes. @default 65536 */
  maxResponseBytes?: number
  /** Lifetime assumed when `expires_in` is missing, seconds. @default 60 */
  defaultLifetime?: number
  /** Longest lifetime believed, seconds. @default 86400 */
  maxLifetime?: number
  /** Refresh at most this many seconds before expiry (or at 80% of the lifetime, if earlier). @default 30 */
  refreshSkew?: number
  /**
   * With `issuer`: the token endpoint is discovered again after a token request fails in a way
   * that suggests it moved (network error, 404, 405, 410, 5xx), at most once per `cooldown` ms,
   * and in the background on a token request once the last discovery is `refreshInterval` ms old.
   * A failed discovery keeps the last good endpoint.
   * @default { cooldown: 5000, refreshInterval: 600000 }
   */
  discovery?: { cooldown?: number; refreshInterval?: number }
  /** Backoff after token endpoint failures, ms. @default { minDelay: 1000, maxDelay: 60000 } */
  retry?: { minDelay?: number; maxDelay?: number }
  /** Request bodies up to this size are buffered so a call can be replayed after a 401. @default 1048576 */
  maxReplayBytes?: number
  /** Most cached tokens (service and exchanged). @default 1000 */
  maxCachedTokens?: number
  /** Allow plain-HTTP token endpoints on non-loopback hosts. @default false */
  allowInsecureHttp?: boolean
  /** Dispatcher the downstream calls go through (composed with the token interceptor). @default a new undici Agent */
  dispatcher?: Dispatcher
  /** Dispatcher for token requests. @default undici's global dispatcher */
  tokenDispatcher?: Dispatcher
  /** pino-compatible logger for token fetches and failures (never tokens or secrets). */
  logger?: Logger & { info?(obj: Record<string, unknown>, msg?: string): void }
}

export interface ResolvedTarget {
  readonly origin: string
  readonly scope: readonly string[]
  readonly audience: readonly string[]
  readonly resource: readonly string[]
  readonly userToken: UserTokenMode
  /** The `aud` values a forwarded user token must include one of: audience and resource. */
  readonly accepts: readonly string[]
}

function fail(message: string): never {
  throw new TypeError(`svcauth client: ${message}`)
}

function list(name: string, value: unknown): readonly string[] {
  if (value === undefined) return []
  const items = typeof value === 'string' ? [value] : value
  if (
    !Array.isArray(items) ||
    !items.every((v) => typeof v === 'string' && v !== '' && !/\s/.test(v))
  ) {
    fail(`${name} must be a string or an array of strings without spaces`)
  }
  return Object.freeze([...new Set(items as string[])].sort())
}

export function resolveTargets(targets: unknown): ReadonlyMap<string, ResolvedTarget> {
  if (typeof targets !== 'object' || targets === null)
    fail('targets must be an object keyed by origin')
  const out = new Map<string, ResolvedTarget>()
  for (const [key, config] of Object.entries(targets as Record<string, TargetConfig>)) {
    let url: URL
    try {
      url = new URL(key)
    } catch {
      return fail(`target ${key} is not a URL`)
    }
    const bare = url.pathname === '/' && url.search === '' && url.hash === ''
    if (url.origin === 'null' || !bare || url.username !== '' || url.password !== '') {
      fail(
        `target ${key} must be an origin (scheme://host[:port]) with no path, query or credentials`,
      )
    }
    const userToken = config.userToken ?? 'never'
    if (!['forward', 'exchange', 'never'].includes(userToken)) {
      fail(`target ${key}: userToken must be 'forward', 'exchange' or 'never'`)
    }
    const audience = list(`target ${key} audience`, config.audience)
    const resource = list(`target ${key} resource`, config.resource)
    for (const r of resource) {
      if (!URL.canParse(r)) fail(`target ${key}: resource ${r} must be an absolute URI (RFC 8707)`)
    }
    // RFC 6750 §5.3: a bearer token goes only to a party it was issued for; with neither an
    // audience nor a resource there is nothing to check the user's `aud` against.
    if (userToken === 'forward' && audience.length === 0 && resource.length === 0) {
      fail(
        `target ${url.origin}: userToken 'forward' needs the target's audience or resource, to forward only user tokens whose aud names it (add audience: '<the aud this service accepts>', or use userToken 'exchange')`,
      )
    }
    out.set(
      url.origin,
      Object.freeze({
        origin: url.origin,
        scope: list(`target ${key} scope`, config.scope),
        audience,
        resource,
        userToken,
        accepts: Object.freeze([...audience, ...resource]),
      }),
    )
  }
  if (out.size === 0) fail('targets must name at least one origin')
  return out
}

export function positive(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    fail(`${name} must be a number from 0 to ${max}`)
  }
  return value
}

export { fail as optionError }
