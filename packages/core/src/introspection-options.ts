/**
 * Options of RFC 7662 introspection (`introspection` of the verifier options or of one issuer):
 * documented defaults, validated once at construction. What they govern is in `introspection.ts`
 * (opaque tokens), `introspection-endpoint.ts` (the call) and `introspection-jwt.ts` (JWTs
 * introspected after local verification, issue 20, item 3).
 */
import { fail, num } from './lib/checks.js'
import { assertUrl, type HttpAllowance } from './lib/urls.js'

/**
 * When a JWT of the introspecting issuer is also introspected (issue 20, item 3): `'always'` on
 * every request, or `{ maxAge }` to reuse an active answer for up to `maxAge` seconds.
 */
export type JwtIntrospection = 'always' | { readonly maxAge: number }

/** The longest `jwt.maxAge`, seconds: a day, as the longest accepted token lifetime by default. */
const MAX_JWT_MAX_AGE = 86_400

/** How to reach the introspection endpoint of an issuer. */
export interface IntrospectionOptions {
  /** The endpoint; when absent, `introspection_endpoint` from the issuer's discovery metadata. */
  endpoint?: string
  /** Client authentication for the call (oidc-provider requires it; Hydra's admin API has none). */
  clientId?: string
  clientSecret?: string
  /** @default 'client_secret_basic' when a secret is given, else 'none' */
  authMethod?: 'client_secret_basic' | 'client_secret_post' | 'none'
  /** Extra request headers, e.g. a gateway's credentials in front of Hydra's admin API. */
  headers?: Readonly<Record<string, string>>
  /** Longest time a result is reused, seconds (revocation takes effect within it). @default 60 */
  cacheTtl?: number
  /** Most cached active answers. @default 10000 */
  maxCached?: number
  /**
   * Most cached refusals (inactive, or active but failing a check), kept apart from the active
   * answers so that a flood of junk tokens cannot evict them. @default maxCached / 10 (at least 1)
   */
  maxCachedInactive?: number
  /** Timeout of one introspection call, ms. @default 5000 */
  timeout?: number
  /** Largest accepted response, bytes. @default 65536 */
  maxBytes?: number
  /**
   * Require the answer to say it is an access token (`token_type: Bearer` or Hydra's
   * `token_use: access_token`). oidc-provider answers a refresh token with neither, so without
   * this an active refresh token could authenticate. @default true
   */
  requireTokenType?: boolean
  /**
   * Introspect this issuer's JWTs too, for services that must see a revocation at once: a JWT is
   * verified locally as always (a locally refused token costs no call), then asked about at the
   * same endpoint. `'always'`: on every request, verified-token cache hits included; `{ maxAge }`:
   * an active answer is reused for up to `maxAge` seconds (0 < maxAge ≤ 86400), never past the
   * token's `exp`. `active: false` → 401 `token_inactive`; no usable answer → 503, as for opaque
   * tokens. Costs one endpoint call per request, or per token per `maxAge`; concurrent requests
   * with one token share a call. @default undefined (JWTs are verified locally only)
   */
  jwt?: JwtIntrospection
}

export interface ResolvedIntrospection {
  readonly endpoint: string | undefined
  readonly clientId: string | undefined
  readonly clientSecret: string | undefined
  readonly authMethod: 'client_secret_basic' | 'client_secret_post' | 'none'
  readonly headers: Readonly<Record<string, string>>
  readonly cacheTtl: number
  readonly maxCached: number
  readonly maxCachedInactive: number
  readonly timeout: number
  readonly maxBytes: number
  readonly requireTokenType: boolean
  readonly jwt: JwtIntrospection | undefined
}

/** Validates and freezes one `introspection` option; `name` is its path, for messages. */
export function resolveIntrospection(
  name: string,
  value: unknown,
  allowInsecureHttp: HttpAllowance,
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
    jwt: resolveJwtIntrospection(`${name}.jwt`, o.jwt),
  })
}

/** `'always'`, `{ maxAge }` with nothing else in it, or absent; anything else is a TypeError. */
function resolveJwtIntrospection(name: string, value: unknown): JwtIntrospection | undefined {
  if (value === undefined || value === 'always') return value
  const message = `${name} must be 'always' or { maxAge: seconds }`
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(message)
  const keys = Object.keys(value)
  if (keys.length !== 1 || keys[0] !== 'maxAge') fail(message)
  const { maxAge } = value as { maxAge: unknown }
  // Zero would mean "always" under another name, and say it less clearly: one spelling each.
  if (
    typeof maxAge !== 'number' ||
    !Number.isFinite(maxAge) ||
    maxAge <= 0 ||
    maxAge > MAX_JWT_MAX_AGE
  ) {
    fail(`${name}.maxAge must be a finite number of seconds above 0 and at most ${MAX_JWT_MAX_AGE}`)
  }
  return Object.freeze({ maxAge })
}
