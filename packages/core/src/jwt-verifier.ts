/**
 * The JWT path of the pipeline: issuer selection by the allow-listed `iss` (never by anything
 * else in the token: keys, audience and algorithms are that issuer's) → header policy (`typ`,
 * `crit`: RFC 9068 §4, RFC 8725 §3.11, RFC 7515 §4.1.11) → jose signature and registered-claim
 * checks against that issuer's keys → the claim checks jose does not do → Principal, which fills
 * the verified-token cache tied to the key that verified it (issue 14, R6). Each issuer has its
 * own key source (`key-source.ts`), started here.
 */
import {
  decodeJwt,
  jwtVerify,
  type JWTHeaderParameters,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose'
import { checkClaims } from './claims.js'
import type { Reject } from './errors.js'
import type { ResolvedIssuer } from './issuer-options.js'
import { KeySource, type KeyStatus, type KeyUse } from './key-source.js'
import { toAuthError } from './lib/jose-errors.js'
import type { ResolvedOptions } from './options.js'
import { buildPrincipal, type Principal } from './principal.js'
import type { TokenCache } from './token-cache.js'

/** Verifies compact JWS tokens against the configured issuers. */
export interface JwtVerifier {
  /** The Principal for a token not found in the cache; rejects with an AuthError. */
  verify(token: string): Promise<Principal>
  /** Resolves when every issuer's first key fetch has settled; true when all have keys. */
  ready(): Promise<boolean>
  /** Each issuer's key state, in configuration order. */
  status(): KeyStatus[]
  /** Stops background key refreshes. */
  close(): void
}

/** One issuer at run time: its configuration, keys, and jose's options and key resolver. */
interface IssuerRuntime {
  readonly config: ResolvedIssuer
  readonly source: KeySource
  readonly verifyOptions: JWTVerifyOptions
  /** jose's key resolver: the header policy, then this issuer's keys. */
  readonly getKey: JWTVerifyGetKey
}

/** Builds the issuers' runtimes and starts fetching their keys (boot never fails on it). */
export function createJwtVerifier(
  resolved: ResolvedOptions,
  reject: Reject,
  cache: TokenCache | undefined,
): JwtVerifier {
  const checkHeader = (header: JWTHeaderParameters): void => {
    if (header.crit !== undefined) throw reject('crit_unsupported')
    if (!typAllowed(header.typ, resolved.strict)) throw reject('typ_invalid')
  }

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
  const only = runtimes.size === 1 ? [...runtimes.values()][0] : undefined
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

  const verify = async (token: string): Promise<Principal> => {
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

  return Object.freeze({
    verify,
    async ready(): Promise<boolean> {
      const results = await Promise.all([...runtimes.values()].map((r) => r.source.ready()))
      return results.every(Boolean)
    },
    status(): KeyStatus[] {
      return [...runtimes.values()].map((r) => r.source.status())
    },
    close(): void {
      for (const runtime of runtimes.values()) runtime.source.close()
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
