/**
 * The planner: which token a call to a configured origin carries. The caller is read from the
 * request context (currentAuthContext(), which ends with the inbound response: work that outlives
 * the request acts as the service, issue 14 R4), and only for targets that take user tokens, so a
 * client whose targets are all `'never'` leaves the request context off (issue 17). During a
 * request made with a *user's* token:
 * - a `forward` target gets that token unchanged, but only when its `aud` names the target's
 *   audience or resource (RFC 6750 §5.3, catalogue K4, issue 14 R1) and it is not
 *   sender-constrained (a `cnf` claim: bound to its holder's DPoP or TLS key, RFC 9449 §6,
 *   RFC 8705 §3, so it would not work from this service); otherwise the call fails with
 *   UserTokenRefusedError and is not sent, never silently switched to the service's own authority;
 * - an `exchange` target gets an RFC 8693 token for it.
 * Every other call (a `never` target, a caller that is itself a service, no request at all) gets
 * the service's own client-credentials token, synchronously when it is cached.
 */
import { currentAuthContext, rawToken, type Principal } from '@svcauth/core'
import { UserTokenRefusedError, type UserTokenRefusal } from './errors.js'
import type { Planner } from './interceptor.js'
import type { Leases } from './leases.js'
import type { ClientLogger } from './options.js'
import type { Renewable } from './renewal.js'
import type { ResolvedTarget } from './targets.js'
import type { TokenSource } from './token-source.js'

export function createPlanner(
  targets: ReadonlyMap<string, ResolvedTarget>,
  source: TokenSource,
  leases: Leases,
  renewable: Renewable,
  logger: ClientLogger | undefined,
): Planner {
  /** One warning per refused call: who the user is and where the call was going, not the token. */
  const refuseUserToken = (
    target: ResolvedTarget,
    principal: Principal | undefined,
    reason: UserTokenRefusal,
  ): UserTokenRefusedError => {
    logger?.warn(
      {
        event: 'user_token_refused',
        reason,
        target: target.origin,
        audience: target.accepts.join(' '),
        sub: principal?.sub,
        client_id: principal?.clientId,
        token_audience: principal?.audience.join(' '),
      },
      reason === 'sender_constrained'
        ? "svcauth: a user's sender-constrained token was not forwarded"
        : "svcauth: a user's token was not forwarded to a target it is not issued for",
    )
    return new UserTokenRefusedError(target.origin, reason)
  }

  return function plan(origin) {
    const target = targets.get(origin)
    if (target === undefined) return undefined
    const principal: Principal | undefined =
      target.userToken === 'never' ? undefined : currentAuthContext()?.principal
    const userToken = principal?.actorType === 'user' ? rawToken(principal) : undefined
    if (userToken !== undefined && target.userToken === 'forward') {
      // RFC 9449 §6, RFC 8705 §3: a token bound to its holder's key is useless to anyone else.
      if (principal?.claims.cnf !== undefined) {
        return Promise.reject(refuseUserToken(target, principal, 'sender_constrained'))
      }
      // Catalogue K4, RFC 6750 §5.3: a user's token goes only to a target it was issued for.
      if (principal?.audience.some((aud) => target.accepts.includes(aud)) !== true) {
        return Promise.reject(refuseUserToken(target, principal, 'not_issued_for_target'))
      }
      return { token: userToken, renew: undefined }
    }
    if (userToken !== undefined) {
      const { key, lease } = leases.exchange(userToken, target)
      return lease.then((l) =>
        renewable(
          key,
          target,
          l,
          () => leases.exchange(userToken, target).lease,
          (token) => {
            source.accepted(key, token)
          },
        ),
      )
    }
    const own = leases.service(target)
    // The steady state: the cached token, at once (a refresh, when due, starts in the background).
    const cached = source.cached(own.key, own.fetcher)
    if (cached !== undefined) return renewable(own.key, target, cached, own.again, own.accept)
    return own.lease().then((l) => renewable(own.key, target, l, own.again, own.accept))
  }
}
