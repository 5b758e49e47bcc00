/**
 * Verifier options: documented, validated once at construction (a mistake is a `TypeError` at
 * start-up, never a 4xx at request time), never mutated, frozen. The core never reads process.env.
 */
import type { Dispatcher } from 'undici'
import { JWKS_DEFAULTS, type JwksOptions, type ResolvedJwksOptions } from './key-source.js'
import { DEFAULT_REALM } from './errors.js'
import { defaultLogger, type Logger } from './logger.js'
import type { IntrospectionOptions, ResolvedIntrospection } from './introspection.js'
import type { ActorTypeRule, Principal } from './principal.js'
import { assertUrl } from './lib/urls.js'

/** Asymmetric JWS algorithms that may be allow-listed. */
export type Algorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519'

const ASYMMETRIC: ReadonlySet<string> = new Set<Algorithm>([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
])

export const DEFAULT_ALGORITHMS: readonly Algorithm[] = Object.freeze([
  'RS256',
  'PS256',
  'ES256',
  'EdDSA',
])

/** One trusted issuer, with its own keys, audience and algorithms. */
export interface IssuerConfig {
  /** Exact `iss` value, compared as a string (mind the trailing slash). */
  issuer: string
  /** Accepted audience(s): the token must carry one of them. `false` skips the check explicitly. */
  audience: string | readonly string[] | false
  /** JWKS address; when absent it is discovered from `issuer`. */
  jwksUri?: string
  /** Allowed algorithms. @default ['RS256', 'PS256', 'ES256', 'EdDSA'] */
  algorithms?: readonly Algorithm[]
  /** RFC 7662 introspection for this issuer's opaque tokens (at most one issuer may have it). */
  introspection?: IntrospectionOptions
}

/** Everything the verifier accepts. Either `issuer` + `audience`, or `issuers`. */
export interface VerifierOptions {
  /** Single-issuer shorthand for `issuers: [{ issuer, audience, jwksUri, algorithms }]`. */
  issuer?: string
  audience?: string | readonly string[] | false
  jwksUri?: string
  algorithms?: readonly Algorithm[]
  /** RFC 7662 introspection for opaque tokens (anything that is not a three-part JWS). */
  introspection?: IntrospectionOptions
  /** Several trusted issuers; keys are chosen by the allow-listed `iss` only. */
  issuers?: readonly IssuerConfig[]
  /** Leeway for `exp`, `nbf` and `iat`, seconds (0–300). @default 30 */
  clockTolerance?: number
  /** Reject tokens whose `iat` is older than this, seconds; makes `iat` required. @default undefined */
  maxTokenAge?: number
  /** Longest accepted `exp - iat`, seconds. @default 86400 */
  maxLifetime?: number
  /** RFC 9068 strict mode: `typ` must be `at+jwt`; `iat`, `sub`, `client_id`, `jti` required. @default false */
  strict?: boolean
  /** Tokens longer than this are rejected before any decoding, bytes. @default 8192 */
  maxTokenBytes?: number
  /** `realm` in `WWW-Authenticate`. @default 'api' */
  realm?: string
  /** Extra claims read as scopes besides `scope` and `scp`, e.g. `['permissions']`. @default [] */
  scopeClaims?: readonly string[]
  /** Overrides the client/user decision; return undefined to use the default rule. */
  actorType?: ActorTypeRule
  /** Revocation/denylist hook, called on every request (cache hits too); key it on `issuer` + `tokenId`. */
  isRevoked?: (principal: Principal) => boolean | Promise<boolean>
  /**
   * Verified-token cache, or `false` to verify every request. `maxTtl` in seconds, `maxBytes` an
   * approximate memory bound. @default { max: 10000, maxTtl: 3600, maxBytes: 33554432 }
   */
  cache?: false | { max?: number; maxTtl?: number; maxBytes?: number }
  /** JWKS fetching and resilience tuning. */
  jwks?: JwksOptions
  /** Allow plain-HTTP issuer and JWKS URLs on non-loopback hosts (in-cluster issuers). @default false */
  allowInsecureHttp?: boolean
  /** undici dispatcher for JWKS and discovery requests (proxies, tests). @default undici's global dispatcher */
  dispatcher?: Dispatcher
  /** pino-compatible logger for start-up warnings and key-fetch failures. */
  logger?: Logger
}

export interface ResolvedIssuer {
  readonly issuer: string
  readonly audience: readonly string[] | false
  readonly jwksUri: string | undefined
  readonly algorithms: readonly Algorithm[]
  readonly introspection: ResolvedIntrospection | undefined
}

export interface ResolvedOptions {
  readonly issuers: readonly ResolvedIssuer[]
  readonly clockTolerance: number
  readonly maxTokenAge: number | undefined
  readonly maxLifetime: number
  readonly strict: boolean
  readonly maxTokenBytes: number
  readonly realm: string
  readonly scopeClaims: readonly string[]
  readonly actorType: ActorTypeRule | undefined
  readonly isRevoked: ((principal: Principal) => boolean | Promise<boolean>) | undefined
  readonly cache:
    false | { readonly max: number; readonly maxTtl: number; readonly maxBytes: number }
  readonly jwks: ResolvedJwksOptions
  readonly allowInsecureHttp: boolean
  readonly dispatcher: Dispatcher | undefined
  readonly logger: Logger
}

function fail(message: string): never {
  throw new TypeError(`svcauth: ${message}`)
}

function num(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(`${name} must be a finite number from ${min} to ${max}`)
  }
  return value
}

function optionalFn<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') fail(`${name} must be a function`)
  return value
}

export function resolveOptions(options: VerifierOptions): ResolvedOptions {
  if (typeof (options as unknown) !== 'object' || (options as unknown) === null) {
    fail('options must be an object')
  }
  const allowInsecureHttp = options.allowInsecureHttp === true
  const issuers = resolveIssuers(options, allowInsecureHttp)
  const realm = options.realm ?? DEFAULT_REALM
  if (typeof realm !== 'string' || /[^\x20\x21\x23-\x5b\x5d-\x7e]/.test(realm)) {
    fail('realm must be a string of printable ASCII without quotes or backslashes')
  }
  const scopeClaims: unknown = options.scopeClaims ?? []
  if (!Array.isArray(scopeClaims) || !scopeClaims.every((c) => typeof c === 'string' && c !== '')) {
    fail('scopeClaims must be an array of claim names')
  }
  const jwks = options.jwks ?? {}
  const day = 86_400
  return Object.freeze({
    issuers,
    clockTolerance: num('clockTolerance', options.clockTolerance, 30, 0, 300),
    maxTokenAge:
      options.maxTokenAge === undefined
        ? undefined
        : num('maxTokenAge', options.maxTokenAge, 0, 1, 365 * day),
    maxLifetime: num('maxLifetime', options.maxLifetime, day, 1, 365 * day),
    strict: options.strict === true,
    maxTokenBytes: num('maxTokenBytes', options.maxTokenBytes, 8192, 256, 1 << 20),
    realm,
    scopeClaims: Object.freeze([...(scopeClaims as string[])]),
    actorType: optionalFn('actorType', options.actorType),
    isRevoked: optionalFn('isRevoked', options.isRevoked),
    cache: resolveCache(options.cache),
    jwks: Object.freeze({
      cooldown: num('jwks.cooldown', jwks.cooldown, JWKS_DEFAULTS.cooldown, 0, 3_600_000),
      refreshInterval: num(
        'jwks.refreshInterval',
        jwks.refreshInterval,
        JWKS_DEFAULTS.refreshInterval,
        1_000,
        7 * day * 1000,
      ),
      maxStale: num('jwks.maxStale', jwks.maxStale, JWKS_DEFAULTS.maxStale, 0, 7 * day * 1000),
      timeout: num('jwks.timeout', jwks.timeout, JWKS_DEFAULTS.timeout, 1, 120_000),
      maxBytes: num('jwks.maxBytes', jwks.maxBytes, JWKS_DEFAULTS.maxBytes, 1_024, 16 << 20),
      maxKeys: num('jwks.maxKeys', jwks.maxKeys, JWKS_DEFAULTS.maxKeys, 1, 10_000),
    }),
    allowInsecureHttp,
    dispatcher: options.dispatcher,
    logger: options.logger ?? defaultLogger,
  })
}

function resolveCache(cache: VerifierOptions['cache']): ResolvedOptions['cache'] {
  if (cache === false) return false
  if (
    cache !== undefined &&
    (typeof (cache as unknown) !== 'object' || (cache as unknown) === null)
  ) {
    fail('cache must be false or an object')
  }
  return Object.freeze({
    max: num('cache.max', cache?.max, 10_000, 1, 10_000_000),
    maxTtl: num('cache.maxTtl', cache?.maxTtl, 3_600, 1, 86_400),
    maxBytes: num('cache.maxBytes', cache?.maxBytes, 32 * 2 ** 20, 64 * 2 ** 10, 4 * 2 ** 30),
  })
}

function resolveIssuers(options: VerifierOptions, allowInsecureHttp: boolean): ResolvedIssuer[] {
  const single =
    options.issuer !== undefined ||
    options.jwksUri !== undefined ||
    options.introspection !== undefined
  if (single && options.issuers !== undefined)
    fail('give either issuer/audience or issuers, not both')
  const list: unknown = single
    ? [
        {
          issuer: options.issuer as string,
          audience: options.audience as IssuerConfig['audience'],
          ...(options.jwksUri === undefined ? {} : { jwksUri: options.jwksUri }),
          ...(options.algorithms === undefined ? {} : { algorithms: options.algorithms }),
          ...(options.introspection === undefined ? {} : { introspection: options.introspection }),
        },
      ]
    : (options.issuers ?? fail('issuer (or issuers) is required'))
  if (!Array.isArray(list) || list.length === 0) fail('issuers must be a non-empty array')
  const seen = new Set<string>()
  const introspecting = (list as readonly IssuerConfig[]).filter(
    (c) => (c as Partial<IssuerConfig>).introspection !== undefined,
  )
  // An opaque token names no issuer: with two introspection endpoints it would be sent to the wrong one.
  if (introspecting.length > 1) fail('introspection may be configured for one issuer only')
  return (list as readonly IssuerConfig[]).map((config, i) => {
    const at = list.length > 1 ? `issuers[${i}].` : ''
    const issuer = assertUrl(`${at}issuer`, config.issuer, allowInsecureHttp, false)
    if (seen.has(issuer)) fail(`issuer ${issuer} is configured twice`)
    seen.add(issuer)
    return Object.freeze({
      issuer,
      audience: resolveAudience(`${at}audience`, config.audience),
      jwksUri:
        config.jwksUri === undefined
          ? undefined
          : assertUrl(`${at}jwksUri`, config.jwksUri, allowInsecureHttp),
      algorithms: resolveAlgorithms(`${at}algorithms`, config.algorithms),
      introspection:
        config.introspection === undefined
          ? undefined
          : resolveIntrospection(`${at}introspection`, config.introspection, allowInsecureHttp),
    })
  })
}

function resolveIntrospection(
  name: string,
  value: unknown,
  allowInsecureHttp: boolean,
): ResolvedIntrospection {
  if (typeof value !== 'object' || value === null) fail(`${name} must be an object`)
  const o = value as IntrospectionOptions
  const str = (field: string, v: unknown): string | undefined => {
    if (v !== undefined && (typeof v !== 'string' || v === '')) {
      fail(`${name}.${field} must be a non-empty string`)
    }
    return v
  }
  const clientId = str('clientId', o.clientId)
  const clientSecret = str('clientSecret', o.clientSecret)
  const authMethod = o.authMethod ?? (clientSecret === undefined ? 'none' : 'client_secret_basic')
  if (!['client_secret_basic', 'client_secret_post', 'none'].includes(authMethod)) {
    fail(`${name}.authMethod must be client_secret_basic, client_secret_post or none`)
  }
  if (authMethod !== 'none' && (clientId === undefined || clientSecret === undefined)) {
    fail(`${name}: ${authMethod} needs clientId and clientSecret`)
  }
  const headers: unknown = o.headers ?? {}
  if (
    typeof headers !== 'object' ||
    headers === null ||
    !Object.values(headers).every((h) => typeof h === 'string' && !/[\r\n]/.test(h))
  ) {
    fail(`${name}.headers must map header names to single-line strings`)
  }
  const maxCached = num(`${name}.maxCached`, o.maxCached, 10_000, 1, 10_000_000)
  // Refusals get a tenth of the active bound unless told otherwise (issue 14, R7).
  const maxCachedInactive = num(
    `${name}.maxCachedInactive`,
    o.maxCachedInactive,
    Math.max(1, Math.floor(maxCached / 10)),
    1,
    10_000_000,
  )
  if (!Number.isInteger(maxCachedInactive)) fail(`${name}.maxCachedInactive must be an integer`)
  return Object.freeze({
    endpoint:
      o.endpoint === undefined
        ? undefined
        : assertUrl(`${name}.endpoint`, o.endpoint, allowInsecureHttp),
    clientId,
    clientSecret,
    authMethod,
    headers: Object.freeze({ ...(headers as Record<string, string>) }),
    cacheTtl: num(`${name}.cacheTtl`, o.cacheTtl, 60, 0, 86_400),
    maxCached,
    maxCachedInactive,
    timeout: num(`${name}.timeout`, o.timeout, 5_000, 1, 120_000),
    maxBytes: num(`${name}.maxBytes`, o.maxBytes, 65_536, 1_024, 16 << 20),
    requireTokenType: o.requireTokenType !== false,
  })
}

function resolveAudience(name: string, audience: unknown): readonly string[] | false {
  if (audience === false) return false
  if (audience === undefined) {
    fail(`${name} is required: the audience this service accepts, or false to skip the check`)
  }
  const list = typeof audience === 'string' ? [audience] : audience
  if (!Array.isArray(list) || list.length === 0 || !list.every((a) => typeof a === 'string' && a)) {
    fail(`${name} must be a non-empty string, a non-empty array of strings, or false`)
  }
  return Object.freeze([...(list as string[])])
}

function resolveAlgorithms(name: string, algorithms: unknown): readonly Algorithm[] {
  if (algorithms === undefined) return DEFAULT_ALGORITHMS
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    fail(`${name} must be a non-empty array`)
  }
  for (const alg of algorithms as unknown[]) {
    if (typeof alg === 'string' && /^HS\d+$/i.test(alg)) {
      fail(`${name}: ${alg} is a shared-secret algorithm and cannot be used with a JWKS`)
    }
    if (typeof alg !== 'string' || !ASYMMETRIC.has(alg)) {
      fail(`${name}: unsupported algorithm ${String(alg)}`)
    }
  }
  return Object.freeze([...(algorithms as Algorithm[])])
}
