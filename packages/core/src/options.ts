/**
 * Verifier options: documented, validated once at construction (a mistake is a `TypeError` at
 * start-up, never a 4xx at request time), never mutated, frozen. The core never reads process.env.
 * The issuer list, `jwks` and `introspection` have their own files (`issuer-options.ts`,
 * `jwks-options.ts`, `introspection-options.ts`).
 */
import type { Dispatcher } from 'undici'
import {
  resolveDpop,
  resolvePublicOrigin,
  type DpopOptions,
  type ResolvedDpopOptions,
} from './dpop-options.js'
import { DEFAULT_REALM } from './errors.js'
import { resolveMtls, type MtlsOptions, type ResolvedMtlsOptions } from './mtls-options.js'
import type { IntrospectionOptions } from './introspection-options.js'
import {
  resolveIssuerCache,
  resolveIssuers,
  type Algorithm,
  type IssuerCacheOptions,
  type IssuerConfig,
  type IssuerResolver,
  type ResolvedIssuer,
  type ResolvedIssuerCache,
} from './issuer-options.js'
import { resolveJwks, type JwksOptions, type ResolvedJwksOptions } from './jwks-options.js'
import { resolveStores, type SvcauthStores } from './stores.js'
import type { OfflineKeys } from './key-options.js'
import { fail, num, optionalFn } from './lib/checks.js'
import { resolveHttpAllowance, type HttpAllowance } from './lib/urls.js'
import { defaultLogger, type Logger } from './logger.js'
import type { ActorTypeRule, Principal } from './principal.js'

/** Everything the verifier accepts. Either `issuer` + `audience`, or `issuers`. */
export interface VerifierOptions {
  /** Single-issuer shorthand for `issuers: [{ issuer, audience, jwksUri, keys, keysFile, algorithms }]`. */
  issuer?: string
  audience?: string | readonly string[] | false
  jwksUri?: string
  /** The issuer's public keys given without a network (see {@link IssuerConfig.keys}). */
  keys?: OfflineKeys
  /** A JWKS or PEM file with the issuer's public keys, re-read on change (see {@link IssuerConfig.keysFile}). */
  keysFile?: string
  algorithms?: readonly Algorithm[]
  /**
   * RFC 7662 introspection for opaque tokens (anything that is not a three-part JWS), and with
   * `jwt` for the issuer's JWTs too (instant revocation).
   */
  introspection?: IntrospectionOptions
  /**
   * Several trusted issuers (keys are chosen by the allow-listed `iss` only), or a function that
   * resolves the token's unverified `iss` to its configuration at request time (multi-tenant
   * services; see {@link IssuerResolver}).
   */
  issuers?: readonly IssuerConfig[] | IssuerResolver
  /** Where `issuers` is a function: how its answers are kept. @default { max: 100, ttl: 600 } */
  issuerCache?: IssuerCacheOptions
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
  /** JWKS fetching and resilience tuning; its caps and intervals apply to `keys`/`keysFile` too. */
  jwks?: JwksOptions
  /**
   * Plain HTTP off loopback (in-cluster issuers): `true` for every host, or a list of the origins
   * allowed, e.g. `['http://hydra:4444']`. Applies to the issuer, `jwksUri`, the introspection
   * endpoint and the addresses discovery finds; checked at construction. @default false
   */
  allowInsecureHttp?: boolean | readonly string[]
  /** undici dispatcher for JWKS and discovery requests (proxies, tests). @default undici's global dispatcher */
  dispatcher?: Dispatcher
  /** pino-compatible logger for start-up warnings and key-fetch failures. */
  logger?: Logger
  /**
   * Accept DPoP-bound tokens (RFC 9449): `Authorization: DPoP <token>` with one `DPoP` proof
   * header, checked on every request; `true` for the defaults. Off, any token with `cnf` is refused.
   * @default false
   */
  dpop?: boolean | DpopOptions
  /**
   * The scheme, host and optional path prefix clients address this service by, e.g.
   * `https://api.example/smd`: the DPoP `htu` is checked against it plus the request path,
   * instead of the request's own Host and scheme (as the framework's trust-proxy setting reads them).
   */
  publicOrigin?: string
  /**
   * Accept certificate-bound tokens (RFC 8705 §3): a token with `cnf["x5t#S256"]` only from a
   * request whose client certificate (the TLS socket's, or a trusted proxy's header) hashes to it;
   * `true` for the socket. Off, any such token is refused. @default false
   */
  mtls?: boolean | MtlsOptions
  /**
   * State shared by the replicas of a fleet (issue 21): introspection answers, the revocation
   * list, DPoP proof `jti`s, e.g. `redisStores(...)` from `@svcauth/redis`. The verified-token
   * cache stays in process. @default each replica keeps its own, in process
   */
  stores?: SvcauthStores
}

/** The verifier options, validated and frozen. */
export interface ResolvedOptions {
  /** The configured issuers; empty where they are resolved at request time. */
  readonly issuers: readonly ResolvedIssuer[]
  /** Where `issuers` is a function: the function and how its answers are kept. */
  readonly issuerResolver:
    { readonly resolve: IssuerResolver; readonly cache: ResolvedIssuerCache } | undefined
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
  readonly allowInsecureHttp: HttpAllowance
  readonly dispatcher: Dispatcher | undefined
  readonly logger: Logger
  readonly dpop: ResolvedDpopOptions | undefined
  readonly publicOrigin: string | undefined
  readonly mtls: ResolvedMtlsOptions | undefined
  readonly stores: SvcauthStores
}

/** Validates every option once; a mistake is a TypeError naming it. */
export function resolveOptions(options: VerifierOptions): ResolvedOptions {
  if (typeof (options as unknown) !== 'object' || (options as unknown) === null) {
    fail('options must be an object')
  }
  const allowInsecureHttp = resolveHttpAllowance('allowInsecureHttp', options.allowInsecureHttp)
  // Before the issuers: keys given offline are checked against its caps.
  const jwks = resolveJwks(options.jwks)
  const issuers = resolveIssuers(options, allowInsecureHttp, jwks)
  const issuerCache = resolveIssuerCache(options)
  const stores = resolveStores(options.stores)
  const realm = options.realm ?? DEFAULT_REALM
  if (typeof realm !== 'string' || /[^\x20\x21\x23-\x5b\x5d-\x7e]/.test(realm)) {
    fail('realm must be a string of printable ASCII without quotes or backslashes')
  }
  const scopeClaims: unknown = options.scopeClaims ?? []
  if (!Array.isArray(scopeClaims) || !scopeClaims.every((c) => typeof c === 'string' && c !== '')) {
    fail('scopeClaims must be an array of claim names')
  }
  const day = 86_400
  return Object.freeze({
    issuers,
    issuerResolver:
      issuerCache === undefined
        ? undefined
        : Object.freeze({ resolve: options.issuers as IssuerResolver, cache: issuerCache }),
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
    jwks,
    allowInsecureHttp,
    dispatcher: options.dispatcher,
    logger: options.logger ?? defaultLogger,
    dpop: resolveDpop(options.dpop, stores.dpopReplay),
    publicOrigin: resolvePublicOrigin(options.publicOrigin),
    mtls: resolveMtls(options.mtls),
    stores,
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
