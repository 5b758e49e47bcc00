/**
 * The trusted issuers: each with its own exact `iss`, audience, keys (fetched, or given offline:
 * `key-options.ts`) and algorithm allow-list (asymmetric only: RFC 8725 §3.1–3.2), and at most one
 * with introspection, since an opaque token names no issuer. Validated once at construction.
 */
import {
  resolveIntrospection,
  type IntrospectionOptions,
  type ResolvedIntrospection,
} from './introspection-options.js'
import type { RequestLike } from './bearer.js'
import { JWKS_DEFAULTS, type ResolvedJwksOptions } from './jwks-options.js'
import { resolveKeyOptions, type OfflineKeys, type ResolvedKeysFile } from './key-options.js'
import { fail, num } from './lib/checks.js'
import type { KeyMaterial } from './lib/key-material.js'
import { assertUrl, type HttpAllowance } from './lib/urls.js'
import type { VerifierOptions } from './options.js'

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
  /** JWKS address; when absent (and no `keys` or `keysFile`) it is discovered from `issuer`. */
  jwksUri?: string
  /**
   * The issuer's public keys, given without a network: a JWKS object, one public JWK, PEM text
   * (SPKI keys, PKCS #1 RSA keys or X.509 certificates, several blocks allowed) or PEM strings.
   * No discovery and no JWKS request is ever made. Not with `jwksUri` or `keysFile`.
   */
  keys?: OfflineKeys
  /**
   * A JWKS (or PEM) file holding the issuer's public keys, read at start-up and again whenever it
   * changes (a bad version keeps the last good keys). Not with `jwksUri` or `keys`.
   */
  keysFile?: string
  /** Allowed algorithms. @default ['RS256', 'PS256', 'ES256', 'EdDSA'] */
  algorithms?: readonly Algorithm[]
  /**
   * RFC 7662 introspection for this issuer's opaque tokens, and with `jwt` for its JWTs too (at
   * most one issuer may have it).
   */
  introspection?: IntrospectionOptions
}

/**
 * Resolves a token's issuer at request time (multi-tenant services, issue 20 item 2): receives the
 * token's unverified `iss` and the request (undefined for `authenticator.verify(token)`), and
 * returns that issuer's configuration, or undefined to refuse it (401 `iss_invalid`, no network
 * call). Its answers are cached per `iss` for `issuerCache.ttl` seconds: an answer that depends on
 * the request needs `issuerCache: { ttl: 0 }`. Throwing (or rejecting) is an outage: 503.
 *
 * @example
 * ```ts
 * const tenants = new Map([['https://hydra.site-a.example/', { audience: 'smd' }]])
 * const auth = createAuthenticator({
 *   issuers: (iss) => {
 *     const tenant = tenants.get(iss)
 *     return tenant && { issuer: iss, audience: tenant.audience }
 *   },
 * })
 * ```
 */
export type IssuerResolver = (
  iss: string,
  request: RequestLike | undefined,
) => IssuerConfig | undefined | Promise<IssuerConfig | undefined>

/** How the answers of an {@link IssuerResolver} are kept. */
export interface IssuerCacheOptions {
  /** Most resolved issuers kept (each with its keys); the least recently used goes first. @default 100 */
  max?: number
  /**
   * How long one answer is reused before the resolver is asked again, seconds; `0` asks it on
   * every request that is not answered from a fresh answer (and turns the verified-token cache
   * off for resolved issuers). A refusal is kept for at most 60 s of it. @default 600
   */
  ttl?: number
}

/** The issuer cache, resolved: `ttl` in ms. */
export interface ResolvedIssuerCache {
  readonly max: number
  readonly ttl: number
}

/** Validates and freezes `issuerCache`; it applies only where `issuers` is a function. */
export function resolveIssuerCache(options: VerifierOptions): ResolvedIssuerCache | undefined {
  const cache = options.issuerCache
  if (typeof options.issuers !== 'function') {
    if (cache !== undefined) fail('issuerCache applies only where issuers is a function')
    return undefined
  }
  if (
    cache !== undefined &&
    (typeof (cache as unknown) !== 'object' || (cache as unknown) === null)
  ) {
    fail('issuerCache must be an object')
  }
  const max = num('issuerCache.max', cache?.max, 100, 1, 100_000)
  if (!Number.isInteger(max)) fail('issuerCache.max must be an integer')
  return Object.freeze({ max, ttl: num('issuerCache.ttl', cache?.ttl, 600, 0, 86_400) * 1000 })
}

/** One issuer, validated and frozen. */
export interface ResolvedIssuer {
  readonly issuer: string
  readonly audience: readonly string[] | false
  readonly jwksUri: string | undefined
  /** The `keys` given inline, checked. */
  readonly keys: KeyMaterial | undefined
  /** The `keysFile`, with the version read at construction. */
  readonly keysFile: ResolvedKeysFile | undefined
  readonly algorithms: readonly Algorithm[]
  readonly introspection: ResolvedIntrospection | undefined
}

/** Validates and freezes the list of trusted issuers; empty where `issuers` is a resolver. */
export function resolveIssuers(
  options: VerifierOptions,
  allowInsecureHttp: HttpAllowance,
  jwks: ResolvedJwksOptions = JWKS_DEFAULTS,
): ResolvedIssuer[] {
  const single =
    options.issuer !== undefined ||
    options.jwksUri !== undefined ||
    options.keys !== undefined ||
    options.keysFile !== undefined ||
    options.introspection !== undefined
  if (single && options.issuers !== undefined)
    fail('give either issuer/audience or issuers, not both')
  if (typeof options.issuers === 'function') return []
  const list: unknown = single
    ? [
        {
          issuer: options.issuer as string,
          audience: options.audience as IssuerConfig['audience'],
          ...(options.jwksUri === undefined ? {} : { jwksUri: options.jwksUri }),
          ...(options.keys === undefined ? {} : { keys: options.keys }),
          ...(options.keysFile === undefined ? {} : { keysFile: options.keysFile }),
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
    const resolved = resolveIssuer(
      list.length > 1 ? `issuers[${i}].` : '',
      config,
      allowInsecureHttp,
      jwks,
    )
    if (seen.has(resolved.issuer)) fail(`issuer ${resolved.issuer} is configured twice`)
    seen.add(resolved.issuer)
    return resolved
  })
}

/**
 * Validates and freezes one issuer's configuration; `at` prefixes the option names in messages
 * (e.g. `issuers[1].`). A mistake is a TypeError naming the option. Keys given offline are
 * checked against `jwks` (`maxKeys`, `maxBytes`), and a `keysFile` is read now.
 */
export function resolveIssuer(
  at: string,
  config: IssuerConfig,
  allowInsecureHttp: HttpAllowance,
  jwks: ResolvedJwksOptions = JWKS_DEFAULTS,
): ResolvedIssuer {
  if (typeof (config as unknown) !== 'object' || (config as unknown) === null) {
    fail(`${at || 'issuer '}configuration must be an object`)
  }
  const issuer = assertUrl(`${at}issuer`, config.issuer, allowInsecureHttp, false)
  const audience = resolveAudience(`${at}audience`, config.audience)
  const jwksUri =
    config.jwksUri === undefined
      ? undefined
      : assertUrl(`${at}jwksUri`, config.jwksUri, allowInsecureHttp)
  const algorithms = resolveAlgorithms(`${at}algorithms`, config.algorithms)
  const { keys, keysFile } = resolveKeyOptions(at, config, {
    algorithms,
    maxKeys: jwks.maxKeys,
    maxBytes: jwks.maxBytes,
  })
  return Object.freeze({
    issuer,
    audience,
    jwksUri,
    keys,
    keysFile,
    algorithms,
    introspection:
      config.introspection === undefined
        ? undefined
        : resolveIntrospection(`${at}introspection`, config.introspection, allowInsecureHttp),
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
