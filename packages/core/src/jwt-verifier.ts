/**
 * The JWT path of the pipeline: issuer selection by the allow-listed `iss` (never by anything
 * else in the token: keys, audience and algorithms are that issuer's) → protected header (jose's
 * rules, then `crit` and `typ` policy: RFC 7515 §4.1, RFC 9068 §4, RFC 8725 §3.11) → key
 * selection in that issuer's JWKS (jose's `createLocalJWKSet` rules) → the signature on
 * `node:crypto` with the key imported once (RFC 7515 §5.2, RFC 7518 §3) → the registered claims
 * as jose checks them (RFC 7519 §4.1) → the claim checks jose does not do → Principal, which fills
 * the verified-token cache tied to the key that verified it (issue 14, R6). Each issuer has its
 * own key source (`key-sources.ts`: fetched, inline or from a file), started here.
 *
 * Keys from PEM (issue 20, item 1) name no `kid` and match a token whatever its `kid`; when
 * several fit the algorithm (an old and a new key given together), the signature is tried against
 * each in turn, at most once per key, and that header is not remembered (the same header may go
 * with either key).
 *
 * Issue 17: jose 6 verifies through WebCrypto, asynchronously, at about half the speed of
 * `crypto.verify` on an imported `KeyObject`. jose still parses and imports the JWKs
 * (`lib/verify-keys.ts`) and is the oracle of a differential test
 * (`test/core/jws-differential.test.ts`); once keys are installed the path is synchronous.
 */
import type { RequestLike } from './bearer.js'
import { checkClaims } from './claims.js'
import type { Reject } from './errors.js'
import { IssuerDirectory, type Liveness } from './issuer-directory.js'
import type { ResolvedIssuer } from './issuer-options.js'
import { createKeySource, type IssuerKeySource } from './key-sources.js'
import {
  checkHeader,
  HeaderMemo,
  type CheckedHeader,
  type HeaderPolicy,
  type KnownHeader,
} from './lib/header-policy.js'
import { algorithmTable, MIN_RSA_BITS } from './lib/jws-algorithms.js'
import { decodeJsonObject, signatureValid, splitCompact, type Segments } from './lib/jws.js'
import type { KeyStatus } from './lib/key-failure.js'
import { fittingKeys, selectKey, type Keys } from './lib/key-set.js'
import {
  checkRegisteredClaims,
  registeredClaimPolicy,
  type RegisteredClaimPolicy,
} from './lib/registered-claims.js'
import type { KeyInput, VerifyKey } from './lib/verify-keys.js'
import type { ResolvedOptions } from './options.js'
import { buildPrincipal, type Principal } from './principal.js'
import type { CacheSource, TokenCache } from './token-cache.js'

/** Verifies compact JWS tokens against the configured issuers. */
export interface JwtVerifier {
  /**
   * The Principal for a token not found in the cache; rejects with an AuthError. The token has
   * passed the pipeline's canonical-encoding check (`verifier.ts`, `lib/canonical.ts`). `request`
   * is handed to an issuer resolver, when one is configured.
   */
  verify(token: string, request?: RequestLike): Promise<Principal>
  /** Resolves when every issuer's first key fetch has settled; true when all have keys. */
  ready(): Promise<boolean>
  /** Each issuer's key state, in configuration order. */
  status(): KeyStatus[]
  /** Stops background key refreshes. */
  close(): void
}

/** One issuer at run time: its configuration, keys, header and claim policies, header memo. */
interface IssuerRuntime {
  readonly config: ResolvedIssuer
  readonly source: IssuerKeySource
  readonly headers: HeaderPolicy
  readonly claims: RegisteredClaimPolicy
  readonly memo: HeaderMemo
  /** What the verified-token cache ties an entry to: the key source, and for a resolved issuer its answer's liveness. */
  readonly cacheSource: CacheSource
}

/** Builds the issuers' runtimes and starts fetching their keys (boot never fails on it). */
export function createJwtVerifier(
  resolved: ResolvedOptions,
  reject: Reject,
  cache: TokenCache | undefined,
): JwtVerifier {
  /** A verified token of a resolved issuer is served from the cache only while its answer stands. */
  const liveSource = (source: IssuerKeySource, liveness: Liveness): CacheSource => {
    const ttl = resolved.issuerResolver?.cache.ttl ?? 0
    return {
      get version() {
        return source.version
      },
      get usable() {
        return !liveness.retired && Date.now() - liveness.checkedAt < ttl && source.usable
      },
      identityOf: (kid) => source.identityOf(kid),
    }
  }
  /**
   * One issuer's runtime: its key source (not started yet) and policies; `liveness` for an issuer
   * resolved at request time.
   */
  const createRuntime = (config: ResolvedIssuer, liveness?: Liveness): IssuerRuntime => {
    const source = createKeySource(config, {
      jwks: resolved.jwks,
      allowInsecureHttp: resolved.allowInsecureHttp,
      dispatcher: resolved.dispatcher,
      logger: resolved.logger,
      reject,
    })
    if (config.audience === false) {
      resolved.logger.warn(
        { event: 'audience_check_disabled', issuer: config.issuer },
        `svcauth: audience check disabled for ${config.issuer}; any token from this issuer is accepted for this service`,
      )
    }
    return {
      config,
      source,
      headers: { algorithms: algorithmTable(config.algorithms), strict: resolved.strict },
      claims: registeredClaimPolicy(config.issuer, config.audience, resolved),
      memo: new HeaderMemo(),
      cacheSource: liveness === undefined ? source : liveSource(source, liveness),
    }
  }

  const runtimes = new Map<string, IssuerRuntime>()
  for (const config of resolved.issuers) runtimes.set(config.issuer, createRuntime(config))
  const { issuerResolver } = resolved
  const directory =
    issuerResolver === undefined
      ? undefined
      : new IssuerDirectory<IssuerRuntime>({
          resolve: issuerResolver.resolve,
          cache: issuerResolver.cache,
          cooldown: resolved.jwks.cooldown,
          allowInsecureHttp: resolved.allowInsecureHttp,
          jwks: resolved.jwks,
          logger: resolved.logger,
          reject,
          create: (config, liveness) => {
            const runtime = createRuntime(config, liveness)
            runtime.source.start()
            return runtime
          },
          close: (runtime) => {
            runtime.source.close()
          },
        })
  const only = runtimes.size === 1 ? [...runtimes.values()][0] : undefined
  for (const runtime of runtimes.values()) runtime.source.start()

  /** The runtime for an `iss` not configured and not freshly resolved: the resolver decides. */
  const runtimeFor = async (
    iss: unknown,
    request: RequestLike | undefined,
  ): Promise<IssuerRuntime> => {
    if (typeof iss !== 'string' || directory === undefined) throw reject('iss_invalid')
    return directory.resolve(iss, request)
  }

  /** The header bound to its key, refusing a key jose would refuse to use. */
  const known = (header: CheckedHeader, keys: Keys, key: VerifyKey): KnownHeader => {
    const input = key.inputs.get(header.alg.name)
    // Published but not importable (WebCrypto refused its material or its key_ops): jose fails
    // the same token when it imports the key.
    if (input === undefined) throw reject('key_invalid', { cause: key.failure })
    if (header.alg.kty === 'RSA' && key.rsaBits < MIN_RSA_BITS) throw reject('key_invalid')
    return bind(header, keys, key, input)
  }

  /**
   * Several PEM keys fit: the header bound to the first whose signature verifies, trying each
   * usable one once; `key_invalid` when none is usable, else `signature_invalid`.
   */
  const tryEach = (
    header: CheckedHeader,
    keys: Keys,
    token: string,
    segments: Segments,
  ): KnownHeader => {
    let usable = 0
    for (const key of fittingKeys(keys, header.alg)) {
      const input = usableInput(header, key)
      if (input === undefined) continue
      usable++
      if (signatureValid(header.alg, input, token, segments.payload)) {
        return bind(header, keys, key, input)
      }
    }
    throw reject(usable === 0 ? 'key_invalid' : 'signature_invalid')
  }

  const verify = async (token: string, request?: RequestLike): Promise<Principal> => {
    const segments = splitCompact(token)
    if (segments === undefined) throw reject('malformed_jws')
    let runtime = only
    let payload: Record<string, unknown> | undefined
    if (runtime === undefined) {
      // Several issuers: the unverified `iss` picks whose keys and policy apply, nothing else.
      payload = decodeJsonObject(token, segments.header + 1, segments.payload)
      if (payload === undefined) throw reject('malformed_jws')
      const { iss } = payload
      // Configured, or resolved with a fresh answer: no promise on the way.
      runtime = typeof iss === 'string' ? (runtimes.get(iss) ?? directory?.fresh(iss)) : undefined
      runtime ??= await runtimeFor(iss, request)
    }
    const segment = token.slice(0, segments.header)
    const current = runtime.source.current()
    let header = current === undefined ? undefined : runtime.memo.get(segment, current)
    const remembered = header !== undefined
    let tried = false
    if (header === undefined) {
      const parsed = decodeJsonObject(token, 0, segments.header)
      if (parsed === undefined) throw reject('malformed_jws')
      const checked = checkHeader(parsed, runtime.headers, reject)
      let keys = current
      let found = keys === undefined ? 'none' : selectKey(keys, checked.alg, checked.kid)
      if (found === 'none') {
        // No keys yet, or an unknown kid: the key source waits or looks again (once per cooldown).
        keys = await runtime.source.keysFor(checked.alg, checked.kid)
        found = selectKey(keys, checked.alg, checked.kid)
      }
      if (found === 'none') throw reject('key_not_found')
      if (found === 'ambiguous') throw reject('jwks_ambiguous')
      if (found === 'several') {
        // Verified while choosing; not remembered: the same header may go with either key.
        header = tryEach(checked, keys as Keys, token, segments)
        tried = true
      } else {
        header = known(checked, keys as Keys, found)
      }
    }
    if (!tried && !signatureValid(header.alg, header.input, token, segments.payload)) {
      throw reject('signature_invalid')
    }
    if (!remembered && !tried) runtime.memo.set(segment, header)
    payload ??= decodeJsonObject(token, segments.header + 1, segments.payload)
    if (payload === undefined) throw reject('malformed_jws')
    const now = Math.floor(Date.now() / 1000)
    checkRegisteredClaims(payload, runtime.claims, now, reject)
    const checked = checkClaims(payload, resolved, now, reject)
    const principal = buildPrincipal(checked, token, resolved.actorType)
    if (cache !== undefined) {
      // A cache entry is tied to the key that verified the token and its key set (R6).
      cache.set(token, principal, {
        kid: header.keyId,
        keyIdentity: header.identity,
        source: runtime.cacheSource,
        version: header.keys.version,
        nbf: typeof payload.nbf === 'number' ? payload.nbf : undefined,
        iat: typeof payload.iat === 'number' ? payload.iat : undefined,
        tolerance: resolved.clockTolerance,
        maxTokenAge: resolved.maxTokenAge,
      })
    }
    return principal
  }

  /** The configured issuers' runtimes, then the resolved ones held now. */
  const all = (): IssuerRuntime[] => [...runtimes.values(), ...(directory?.runtimes() ?? [])]

  return Object.freeze({
    verify,
    async ready(): Promise<boolean> {
      const results = await Promise.all(all().map((r) => r.source.ready()))
      return results.every(Boolean)
    },
    status(): KeyStatus[] {
      return all().map((r) => r.source.status())
    },
    close(): void {
      for (const runtime of runtimes.values()) runtime.source.close()
      directory?.close()
    },
  })
}

/** The `crypto.verify` key of `key` for the header's algorithm, unless jose would refuse it. */
function usableInput(header: CheckedHeader, key: VerifyKey): KeyInput | undefined {
  const input = key.inputs.get(header.alg.name)
  if (input === undefined) return undefined
  return header.alg.kty === 'RSA' && key.rsaBits < MIN_RSA_BITS ? undefined : input
}

/**
 * The header bound to the key that verifies it. The verified-token cache ties an entry to a kid
 * and the identity published under it: the header's kid, or for keys that match any kid (PEM) the
 * key's own, its RFC 7638 thumbprint (`lib/pem-keys.ts`).
 */
function bind(header: CheckedHeader, keys: Keys, key: VerifyKey, input: KeyInput): KnownHeader {
  const keyId = keys.anyKid ? key.kid : header.kid
  const id = typeof keyId === 'string' ? keyId : undefined
  const identity = id === undefined ? undefined : (keys.identities.get(id) ?? undefined)
  return { alg: header.alg, kid: header.kid, keyId: id, keys, input, identity }
}
