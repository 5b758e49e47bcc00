/**
 * The inbound pipeline: bearer extraction → canonical base64url segments (RFC 7515 §2, RFC 4648
 * §3.5) → verified-token cache → issuer selection by the allow-listed `iss` → header policy
 * (`typ`, `crit`) → jose signature and registered-claim checks against that issuer's keys → the
 * claim checks jose does not do → Principal. A token that is not a three-part JWS goes to the
 * introspection endpoint instead, when one is configured.
 */
import {
  decodeJwt,
  jwtVerify,
  type JWTHeaderParameters,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose'
import { readBearer, type RequestLike } from './bearer.js'
import { checkClaims } from './claims.js'
import { isAuthError, rejecter } from './errors.js'
import { Introspector, isOpaque } from './introspection.js'
import { KeySource, type KeyUse } from './key-source.js'
import { isCanonicalCompactJws } from './lib/canonical.js'
import { toAuthError } from './lib/jose-errors.js'
import {
  resolveOptions,
  type ResolvedIssuer,
  type ResolvedOptions,
  type VerifierOptions,
} from './options.js'
import { buildPrincipal, type Principal } from './principal.js'
import { TokenCache } from './token-cache.js'

/** Options of {@link createAuthenticator}: the verifier's, plus optional authentication. */
export interface AuthenticatorOptions extends VerifierOptions {
  /** No token → the request continues anonymously; a present but invalid token is still 401. @default false */
  optional?: boolean
}

/** Verifies bearer tokens for one service. Framework-free: the adapters call it. */
export interface Authenticator {
  /** The resolved, frozen options. */
  readonly options: ResolvedOptions
  readonly optional: boolean
  readonly realm: string
  /** Verifies a token string; resolves the Principal or rejects with an AuthError. */
  verify(token: string): Promise<Principal>
  /**
   * Authenticates a request: the Principal, `undefined` for an anonymous request in optional
   * mode, or an AuthError rejection.
   */
  authenticate(req: RequestLike): Promise<Principal | undefined>
  /**
   * The synchronous fast path the adapters take first: the Principal when the request carries a
   * well-formed bearer token that is a verified-cache hit still within its lifetime, else
   * `undefined` (anything else: a miss, an anonymous or malformed request, an opaque token, or an
   * `isRevoked` hook to consult), after which the caller must use {@link authenticate}. It never
   * throws, and it accepts nothing that `authenticate()` would refuse.
   *
   * @example
   * ```ts
   * const principal = auth.authenticateCached(req) ?? (await auth.authenticate(req))
   * ```
   */
  authenticateCached(req: RequestLike): Principal | undefined
  /** Resolves when every issuer's first key fetch has settled; true when all have keys. */
  ready(): Promise<boolean>
  /** Stops background key refreshes. */
  close(): void
}

interface IssuerRuntime {
  readonly config: ResolvedIssuer
  readonly source: KeySource
  readonly verifyOptions: JWTVerifyOptions
  /** jose's key resolver: the header policy, then this issuer's keys. */
  readonly getKey: JWTVerifyGetKey
}

/**
 * Builds an Authenticator and starts fetching keys in the background (boot never fails on it).
 *
 * @example
 * ```ts
 * const auth = createAuthenticator({
 *   issuer: 'https://hydra.example/',
 *   audience: 'smd',
 *   jwksUri: 'https://hydra.example/.well-known/jwks.json',
 * })
 * const principal = await auth.authenticate({ headers: req.headers, rawHeaders: req.rawHeaders })
 * ```
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const resolved = resolveOptions(options)
  const optional = options.optional === true
  const { realm } = resolved
  // The realm is bound here, once: every error of this authenticator is made through `reject`.
  const reject = rejecter(realm)
  const runtimes = new Map<string, IssuerRuntime>()
  for (const config of resolved.issuers) {
    const source = new KeySource({
      issuer: config.issuer,
      jwksUri: config.jwksUri,
      jwks: resolved.jwks,
      allowInsecureHttp: resolved.allowInsecureHttp,
      dispatcher: resolved.dispatcher,
      logger: resolved.logger,
      reject,
    })
    runtimes.set(config.issuer, {
      config,
      source,
      verifyOptions: verifyOptionsFor(config, resolved),
      getKey: (header, input) => {
        checkHeader(header)
        return source.getKey(header, input)
      },
    })
    if (config.audience === false) {
      resolved.logger.warn(
        { event: 'audience_check_disabled', issuer: config.issuer },
        `svcauth: audience check disabled for ${config.issuer}; any token from this issuer is accepted for this service`,
      )
    }
  }
  const introspected = resolved.issuers.find((i) => i.introspection !== undefined)
  const introspector =
    introspected?.introspection === undefined
      ? undefined
      : new Introspector({
          issuer: introspected.issuer,
          audience: introspected.audience,
          options: introspected.introspection,
          policy: resolved,
          actorType: resolved.actorType,
          allowInsecureHttp: resolved.allowInsecureHttp,
          discoveryCooldown: resolved.jwks.cooldown,
          dispatcher: resolved.dispatcher,
          logger: resolved.logger,
          reject,
        })
  const only = runtimes.size === 1 ? [...runtimes.values()][0] : undefined
  const cache = resolved.cache === false ? undefined : new TokenCache(resolved.cache)
  for (const runtime of runtimes.values()) runtime.source.start()

  const select = (token: string): IssuerRuntime => {
    if (only !== undefined) return only // jose still checks `iss` exactly
    let iss: unknown
    try {
      iss = decodeJwt(token).iss
    } catch (err) {
      throw toAuthError(err, token, reject)
    }
    const runtime = typeof iss === 'string' ? runtimes.get(iss) : undefined
    if (runtime === undefined) throw reject('iss_invalid')
    return runtime
  }

  const checkHeader = (header: JWTHeaderParameters): void => {
    if (header.crit !== undefined) throw reject('crit_unsupported')
    if (!typAllowed(header.typ, resolved.strict)) {
      throw reject('typ_invalid')
    }
  }

  const verifyUncached = async (token: string): Promise<Principal> => {
    const runtime = select(token)
    let payload: Record<string, unknown>
    let kid: string | undefined
    // A cache entry is tied to the key that verified the token and its key set, not just the kid
    // (R6); without a cache the shared resolver is enough.
    const used: KeyUse | undefined =
      cache === undefined ? undefined : { identity: undefined, version: 0 }
    const getKey: JWTVerifyGetKey =
      used === undefined
        ? runtime.getKey
        : (header, input) => {
            checkHeader(header)
            return runtime.source.getKey(header, input, used)
          }
    try {
      const result = await jwtVerify(token, getKey, runtime.verifyOptions)
      payload = result.payload
      kid = typeof result.protectedHeader.kid === 'string' ? result.protectedHeader.kid : undefined
    } catch (err) {
      throw toAuthError(err, token, reject)
    }
    const checked = checkClaims(payload, resolved, Math.floor(Date.now() / 1000), reject)
    const principal = buildPrincipal(checked, token, resolved.actorType)
    if (cache !== undefined && used !== undefined) {
      cache.set(token, principal, {
        kid,
        keyIdentity: used.identity,
        source: runtime.source,
        version: used.version,
        nbf: typeof payload.nbf === 'number' ? payload.nbf : undefined,
        iat: typeof payload.iat === 'number' ? payload.iat : undefined,
        tolerance: resolved.clockTolerance,
        maxTokenAge: resolved.maxTokenAge,
      })
    }
    return principal
  }

  const verify = async (token: string): Promise<Principal> => {
    // The size cap also guards direct verify() calls, before any decoding (catalogue A9, B6).
    if (token.length > resolved.maxTokenBytes) {
      throw reject('token_too_large')
    }
    let principal: Principal
    if (introspector !== undefined && isOpaque(token)) {
      principal = await introspector.principal(token)
    } else if (!isCanonicalCompactJws(token)) {
      // Before the cache and jose: one spelling per token, so one cache entry (issue 14, R5).
      throw reject('malformed_jws')
    } else if (cache !== undefined) {
      const hit = cache.get(token, Math.floor(Date.now() / 1000))
      if (typeof hit === 'string') throw reject(hit)
      principal = hit ?? (await verifyUncached(token))
    } else {
      principal = await verifyUncached(token)
    }
    if (resolved.isRevoked !== undefined) await checkRevoked(principal)
    return principal
  }

  const checkRevoked = async (principal: Principal): Promise<void> => {
    let revoked: boolean
    try {
      revoked = await (resolved.isRevoked as (p: Principal) => boolean | Promise<boolean>)(
        principal,
      )
    } catch (cause) {
      resolved.logger.error(
        {
          event: 'revocation_check_failed',
          error: cause instanceof Error ? cause.message : 'error',
        },
        'svcauth: the isRevoked hook threw',
      )
      throw reject('revocation_unavailable', { cause })
    }
    if (revoked) throw reject('revoked')
  }

  return Object.freeze({
    options: resolved,
    optional,
    realm,
    verify,
    async authenticate(req: RequestLike): Promise<Principal | undefined> {
      const token = readBearer(req, resolved.maxTokenBytes, reject)
      if (token === undefined) {
        if (optional) return undefined
        throw reject('missing_token')
      }
      try {
        return await verify(token)
      } catch (err) {
        throw isAuthError(err) ? err : toAuthError(err, token, reject)
      }
    },
    authenticateCached(req: RequestLike): Principal | undefined {
      // Only the plain case: no revocation hook to await and no introspection to route to.
      if (cache === undefined || resolved.isRevoked !== undefined) return undefined
      let token: string | undefined
      try {
        token = readBearer(req, resolved.maxTokenBytes, reject)
      } catch {
        return undefined // authenticate() answers it, with the same error
      }
      if (token === undefined || (introspector !== undefined && isOpaque(token))) return undefined
      // No canonical-encoding scan here: only verify() fills the cache, after that check, and
      // keys are exact strings, so another spelling of a cached token is a miss (R5).
      const hit = cache.get(token, Math.floor(Date.now() / 1000))
      return typeof hit === 'string' ? undefined : hit
    },
    async ready(): Promise<boolean> {
      const results = await Promise.all([...runtimes.values()].map((r) => r.source.ready()))
      return results.every(Boolean)
    },
    close(): void {
      for (const runtime of runtimes.values()) runtime.source.close()
      cache?.clear()
      introspector?.clear()
    },
  })
}

function verifyOptionsFor(config: ResolvedIssuer, resolved: ResolvedOptions): JWTVerifyOptions {
  const required = resolved.strict ? ['exp', 'iat', 'sub', 'client_id', 'jti'] : ['exp']
  return Object.freeze({
    issuer: config.issuer,
    ...(config.audience === false ? {} : { audience: [...config.audience] }),
    algorithms: [...config.algorithms],
    clockTolerance: resolved.clockTolerance,
    ...(resolved.maxTokenAge === undefined ? {} : { maxTokenAge: resolved.maxTokenAge }),
    requiredClaims: required,
  })
}

/**
 * `typ` policy (RFC 9068 §4, RFC 8725 §3.11): by default `at+jwt`, `application/at+jwt`, `JWT`
 * (Hydra) or none; strict mode requires `at+jwt`. Media types compare case-insensitively.
 */
function typAllowed(typ: unknown, strict: boolean): boolean {
  if (typ === undefined) return !strict
  if (typeof typ !== 'string') return false
  const t = typ.toLowerCase().replace(/^application\//, '')
  return t === 'at+jwt' || (!strict && t === 'jwt')
}
