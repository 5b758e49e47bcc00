/**
 * Renewal after a 401 from a target (RFC 6750 §3.1 `invalid_token`), for the interceptor's one
 * retry. The cached token is invalidated only if it is still the one the target rejected
 * (compare-and-invalidate), and a new one fetched, shared by concurrent 401s (catalogue K5–K7).
 * A token no target has accepted yet is dropped at most once per `retry.minDelay` (K8); one that
 * was accepted and is now rejected was revoked and is dropped at once (issue 14, R12). No
 * renewal for a token this very call waited for, and no replay when the renewal hands back the
 * rejected token. Each forced refresh logs one `token_rejected` warning, never the token. Each
 * renewal that leads to a replay is published on `svcauth:outbound:retry` when someone listens.
 * The same renewal replaces a token whose client certificate a renewal of the certificate has
 * replaced (RFC 8705 §3), before the call is sent; `again` then fetches under the new
 * certificate's key.
 */
import type { RetryEvent } from '@svcauth/core'
import { retryChannel } from '@svcauth/core/internal'
import type { ClientIdentity } from './client-identity.js'
import { TokenEndpointError } from './errors.js'
import type { TokenPlan } from './interceptor.js'
import type { ClientLogger } from './options.js'
import type { ResolvedTarget } from './targets.js'
import type { Lease, TokenSource } from './token-source.js'

/**
 * The plan for a call made with `lease` (cached under `key`): its token, how to renew it with
 * `again` after a 401, and `accepted` to report a success.
 */
export type Renewable = (
  key: string,
  target: ResolvedTarget,
  lease: Lease,
  again: () => Promise<Lease>,
  accepted: (token: string) => void,
) => TokenPlan

export function createRenewal(
  source: TokenSource,
  identity: ClientIdentity,
  logger: ClientLogger | undefined,
): Renewable {
  return function renewable(key, target, lease, again, accepted) {
    return {
      token: lease.token,
      scheme: lease.dpop ? 'DPoP' : 'Bearer',
      certificate: lease.certificate,
      accepted,
      renew: lease.fresh
        ? undefined
        : async () => {
            if (source.invalidate(key, lease.token)) {
              logger?.warn(
                { event: 'token_rejected', client_id: identity.id, ...target.logFields },
                'svcauth: a target rejected the cached token; fetching a new one',
              )
            }
            const renewed = await again()
            const next = renewed.token
            // Still the rejected token (a token no target accepted yet is renewed at most once
            // per retry.minDelay): do not replay in vain.
            if (next === lease.token) throw new TokenEndpointError('invalid_grant')
            // A new token: the interceptor replays the call with it, once.
            if (retryChannel.hasSubscribers) {
              const event: RetryEvent = { clientId: identity.id, reason: 'invalid_token' }
              retryChannel.publish(event)
            }
            // Its own scheme: with DPoP on, a server may bind one token and not the next (RFC 9449 §5).
            return {
              token: next,
              scheme: renewed.dpop ? 'DPoP' : 'Bearer',
              certificate: renewed.certificate,
            }
          },
    }
  }
}
