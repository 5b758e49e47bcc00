/**
 * The inbound pipeline: bearer extraction → size cap → canonical base64url segments (RFC 7515 §2,
 * RFC 4648 §3.5) → verified-token cache → the JWT path (`jwt-verifier.ts`: issuer by `iss`,
 * header policy, jose, claim checks, Principal) → revocation hook → the request's DPoP proof or
 * certificate binding → with `introspection.jwt`, the JWT asked about at the introspection
 * endpoint, last, so that a locally refused token costs no call (`introspection-jwt.ts`, issue
 * 20, item 3). A token that is not a three-part JWS goes to the introspection endpoint instead,
 * when one is configured. The realm
 * is bound here once, so every error of one authenticator carries it. Each decided request is
 * published once on `svcauth:inbound:request` and each uncached JWT verification on
 * `svcauth:inbound:verify` (`diagnostics.ts`), only when someone subscribed.
 */
import {
  dpopHeader,
  onlyAuthorization,
  readBearer,
  readCredentials,
  type Credentials,
  type RequestLike,
} from './bearer.js'
import {
  INBOUND_EVENTS,
  inboundRequestChannel,
  inboundVerifyChannel,
  publishRejection,
} from './diagnostics.js'
import type { ResolvedDpopOptions } from './dpop-options.js'
import { checkDpopRequest, type HeaderSink } from './dpop-request.js'
import { isAuthError, rejecter, type AuthError, type AuthErrorReason } from './errors.js'
import { createIntrospection, isOpaque, type IntrospectionStatus } from './introspection.js'
import { createJwtVerifier } from './jwt-verifier.js'
import { checkMtlsRequest, type MtlsState } from './mtls-request.js'
import type { KeyStatus } from './key-source.js'
import { isCanonicalCompactJws } from './lib/canonical.js'
import { toAuthError } from './lib/jose-errors.js'
import { resolveOptions, type ResolvedOptions, type VerifierOptions } from './options.js'
import type { Principal } from './principal.js'
import { TokenCache } from './token-cache.js'

/** Options of {@link createAuthenticator}: the verifier's, plus optional authentication. */
export interface AuthenticatorOptions extends VerifierOptions {
  /** No token → the request continues anonymously; a present but invalid token is still 401. @default false */
  optional?: boolean
}

/**
 * One configured issuer's state in {@link Authenticator.status}: its keys (address in use, count,
 * last good fetch, last failure) and, for the issuer that has one, the introspection endpoint.
 */
export interface IssuerStatus extends KeyStatus {
  readonly introspection?: IntrospectionStatus
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
   * mode, or an AuthError rejection. With `dpop` on, `response` (Node's ServerResponse) is given a
   * fresh `DPoP-Nonce` when the proof's nonce is about to rotate.
   */
  authenticate(req: RequestLike, response?: HeaderSink): Promise<Principal | undefined>
  /**
   * The synchronous fast path the adapters take first: the Principal when the request carries a
   * well-formed bearer token that is a verified-cache hit still within its lifetime, else
   * `undefined` (anything else: a miss, an anonymous or malformed request, an opaque token, a JWT
   * of an issuer whose JWTs are introspected, or an `isRevoked` hook to consult), after which the
   * caller must use {@link authenticate}. It never
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
  /**
   * Each configured issuer's state now, for readiness probes and dashboards: the JWKS address in
   * use, the key count, when keys were last fetched, the last failure (reason, message, time) and
   * the introspection endpoint when configured. Synchronous; never fetches.
   *
   * @example
   * ```ts
   * app.get('/ready', async (_req, res) => {
   *   const ready = await auth.ready()
   *   res.status(ready ? 200 : 503).json({ ready, issuers: auth.status() })
   * })
   * ```
   */
  status(): IssuerStatus[]
  /** Stops background key refreshes. */
  close(): void
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
  const cache = resolved.cache === false ? undefined : new TokenCache(resolved.cache)
  const jwt = createJwtVerifier(resolved, reject, cache)
  const { revocations } = resolved.stores
  const introspected = resolved.issuers.find((i) => i.introspection !== undefined)
  const introspection =
    introspected?.introspection === undefined
      ? undefined
      : createIntrospection(
          { ...introspected, introspection: introspected.introspection },
          resolved,
          reject,
        )
  const introspector = introspection?.opaque
  /** Set when the introspecting issuer's JWTs are introspected too (`introspection.jwt`). */
  const jwtIntrospector = introspection?.jwt
  /** Whose JWTs the fast path must leave to authenticate(): they are asked about on each request. */
  const introspectedJwtIssuer = jwtIntrospector?.issuer

  /**
   * The last step for a JWT of the issuer whose JWTs are introspected, after every local check
   * (an opaque token of that issuer was introspected already).
   */
  const introspectJwt = async (token: string, principal: Principal): Promise<Principal> => {
    if (
      jwtIntrospector !== undefined &&
      principal.issuer === introspectedJwtIssuer &&
      !isOpaque(token)
    ) {
      await jwtIntrospector.check(token, principal)
    }
    return principal
  }

  /** An uncached JWT verification, timed for `svcauth:inbound:verify` when someone listens. */
  const verifyJwt = (token: string, req: RequestLike | undefined): Promise<Principal> =>
    inboundVerifyChannel.hasSubscribers ? timed(token, req) : jwt.verify(token, req)

  const timed = async (token: string, req: RequestLike | undefined): Promise<Principal> => {
    const start = performance.now()
    let result: 'ok' | 'error' = 'error'
    try {
      const principal = await jwt.verify(token, req)
      result = 'ok'
      return principal
    } finally {
      inboundVerifyChannel.publish({ result, duration: (performance.now() - start) / 1000 })
    }
  }

  /**
   * `seen`, when given (a subscriber listens), learns whether the cache answered; `req`, when the
   * token came with a request, is for an issuer resolver.
   */
  const verifyToken = async (
    token: string,
    seen?: { hit: boolean },
    req?: RequestLike,
  ): Promise<Principal> => {
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
      if (seen !== undefined) seen.hit = hit !== undefined
      if (typeof hit === 'string') throw reject(hit)
      principal = hit ?? (await verifyJwt(token, req))
    } else {
      principal = await verifyJwt(token, req)
    }
    if (resolved.isRevoked !== undefined) await checkRevoked(principal)
    if (revocations !== undefined && listedRevoked(principal)) throw reject('revoked')
    return principal
  }

  /**
   * The fleet's revocation list (`stores.revocations`, issue 21), read from memory; a list that
   * throws is an outage of the revocation check, as the hook's is.
   */
  const listedRevoked = (principal: Principal): boolean => {
    const { tokenId } = principal
    if (tokenId === undefined || revocations === undefined) return false
    try {
      return revocations.isRevoked(principal.issuer, tokenId)
    } catch (cause) {
      resolved.logger.error(
        {
          event: 'revocation_check_failed',
          error: cause instanceof Error ? cause.message : 'error',
        },
        'svcauth: the shared revocation list failed',
      )
      throw reject('revocation_unavailable', { cause })
    }
  }

  /** The fast path's view: revoked, or the list failed (authenticate() then answers). */
  const fastRevoked = (principal: Principal): boolean => {
    if (revocations === undefined || principal.tokenId === undefined) return false
    try {
      return revocations.isRevoked(principal.issuer, principal.tokenId)
    } catch {
      return true
    }
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

  const { dpop, mtls } = resolved
  const mtlsState: MtlsState = { warnedUntrusted: false }

  /** Where mutual TLS is on: the request's certificate against the token's binding (RFC 8705 §3). */
  const bound = (req: RequestLike, principal: Principal): Principal => {
    if (mtls !== undefined) {
      checkMtlsRequest(req, principal, mtls, mtlsState, resolved.logger, reject)
    }
    return principal
  }

  /**
   * A request where DPoP is on (RFC 9449 §7): Bearer or DPoP scheme; a DPoP-bound token only with
   * the DPoP scheme and its proof, a plain one only as Bearer (and not at all when DPoP is
   * required). Every refusal carries the challenges of both schemes, its error on the one used.
   */
  const authenticateDpop = async (
    dpop: ResolvedDpopOptions,
    req: RequestLike,
    seen: { hit: boolean } | undefined,
    response: HeaderSink | undefined,
  ): Promise<Principal | undefined> => {
    let credentials: Credentials | undefined
    try {
      credentials = readCredentials(req, resolved.maxTokenBytes, reject)
      if (credentials === undefined) {
        if (optional) return undefined
        throw reject('missing_token')
      }
      const { scheme, token } = credentials
      if (scheme === 'bearer') {
        if (dpop.required) throw reject('dpop_required')
        if (dpopHeader(req) !== undefined) throw reject('dpop_scheme_mismatch')
      }
      const principal = await verifyToken(token, seen, req)
      if (scheme === 'bearer') {
        // RFC 9449 §7.2: a DPoP-bound token is not a bearer token.
        if (principal.confirmation?.jkt !== undefined) throw reject('sender_constrained')
        return await introspectJwt(token, bound(req, principal))
      }
      await checkDpopRequest(req, token, principal, dpop, resolved, reject, response)
      return await introspectJwt(token, bound(req, principal))
    } catch (err) {
      const error: AuthError = isAuthError(err)
        ? err
        : toAuthError(err, credentials?.token ?? '', reject)
      throw error.withDpop(dpop.challenges[credentials?.scheme ?? 'none'])
    }
  }

  const authenticateRequest = async (
    req: RequestLike,
    seen?: { hit: boolean },
    response?: HeaderSink,
  ): Promise<Principal | undefined> => {
    if (dpop !== undefined) return authenticateDpop(dpop, req, seen, response)
    const token = readBearer(req, resolved.maxTokenBytes, reject)
    if (token === undefined) {
      if (optional) return undefined
      throw reject('missing_token')
    }
    try {
      const principal = bound(req, await verifyToken(token, seen, req))
      return jwtIntrospector === undefined ? principal : await introspectJwt(token, principal)
    } catch (err) {
      throw isAuthError(err) ? err : toAuthError(err, token, reject)
    }
  }

  /** The request, published once on `svcauth:inbound:request` (its outcome, reason and cache use). */
  const observed = async (
    req: RequestLike,
    response: HeaderSink | undefined,
  ): Promise<Principal | undefined> => {
    const seen = { hit: false }
    let principal: Principal | undefined
    try {
      principal = await authenticateRequest(req, seen, response)
    } catch (err) {
      if (isAuthError(err)) publishRejection(err.reason, seen.hit)
      throw err
    }
    inboundRequestChannel.publish(
      principal === undefined
        ? INBOUND_EVENTS.anonymous
        : seen.hit
          ? INBOUND_EVENTS.authenticatedHit
          : INBOUND_EVENTS.authenticatedMiss,
    )
    return principal
  }

  // Without JWT introspection, no second await on the way (a cache hit is a few hundred ns).
  const verify = (token: string): Promise<Principal> =>
    jwtIntrospector === undefined
      ? verifyToken(token)
      : verifyToken(token).then((principal) => introspectJwt(token, principal))

  /** A cache-hit request, published when someone listens (a frozen, shared payload). */
  const published = (principal: Principal): Principal => {
    if (inboundRequestChannel.hasSubscribers) {
      inboundRequestChannel.publish(INBOUND_EVENTS.authenticatedHit)
    }
    return principal
  }

  return Object.freeze({
    options: resolved,
    optional,
    realm,
    verify,
    authenticate(req: RequestLike, response?: HeaderSink): Promise<Principal | undefined> {
      // Checked per call: nothing is allocated for the event unless someone subscribed.
      return inboundRequestChannel.hasSubscribers
        ? observed(req, response)
        : authenticateRequest(req, undefined, response)
    },
    authenticateCached(req: RequestLike): Principal | undefined {
      // Only the plain case: no revocation hook to await and no introspection to route to.
      if (cache === undefined || resolved.isRevoked !== undefined) return undefined
      // A JWT whose issuer has `introspection.jwt` is for authenticate(), whose last step asks
      // the endpoint: checked on every answer below, issuer by issuer (other issuers keep this path).
      // Where DPoP is on, a proof (or its requirement) is for authenticate() to check.
      if (dpop !== undefined && (dpop.required || req.headers.dpop !== undefined)) return undefined
      // Where bound tokens are required, every request is for authenticate() to judge.
      if (mtls?.required === true) return undefined
      const header = req.headers.authorization
      if (typeof header !== 'string') return undefined // absent or repeated: authenticate() answers
      const now = Math.floor(Date.now() / 1000)
      // A service repeats its header byte for byte: compared with the recent ones, it needs no
      // parsing and no hashing of the token (issue 17). Only the request around it is checked.
      let hit: Principal | AuthErrorReason | undefined = cache.getRecent(header, now)
      if (hit !== undefined) {
        return onlyAuthorization(req) && hit.issuer !== introspectedJwtIssuer && !fastRevoked(hit)
          ? published(hit)
          : undefined
      }
      let token: string | undefined
      try {
        token = readBearer(req, resolved.maxTokenBytes, reject)
      } catch {
        return undefined // authenticate() answers it, with the same error
      }
      if (token === undefined || (introspector !== undefined && isOpaque(token))) return undefined
      // No canonical-encoding scan here: only verify() fills the cache, after that check, and
      // keys are exact strings, so another spelling of a cached token is a miss (R5).
      hit = cache.get(token, now)
      if (typeof hit === 'string' || hit === undefined) return undefined
      // A DPoP-bound token presented as Bearer: authenticate() refuses it (RFC 9449 §7.2).
      if (hit.confirmation !== undefined) return undefined
      if (hit.issuer === introspectedJwtIssuer || fastRevoked(hit)) return undefined
      cache.remember(header, token)
      return published(hit)
    },
    ready(): Promise<boolean> {
      return jwt.ready()
    },
    status(): IssuerStatus[] {
      return jwt
        .status()
        .map((keys) =>
          introspection !== undefined && keys.issuer === introspection.issuer
            ? Object.freeze({ ...keys, introspection: introspection.status() })
            : keys,
        )
    },
    close(): void {
      jwt.close()
      cache?.clear()
      introspection?.clear()
    },
  })
}
