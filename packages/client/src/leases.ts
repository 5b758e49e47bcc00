/**
 * The two kinds of token the client obtains, each cached in the token source under its own key:
 * the service's own client-credentials token per target (RFC 6749 §4.4), and the RFC 8693
 * exchange of a user's token for a target (keyed by the SHA-256 of the subject token, never the
 * token). A key names the issuer or endpoint, the client id, and the target's scope, audience and
 * resource, with DPoP the thumbprint of the key tokens are bound to (RFC 9449 §6), and with a TLS
 * client certificate its `x5t#S256` at the time (RFC 8705 §3), so a cached token never serves a
 * request it was not issued for, and a renewed certificate starts with new tokens.
 */
import { createHash } from 'node:crypto'
import type { ClientIdentity } from './client-identity.js'
import type { Grant } from './grant.js'
import { withTarget } from './lib/grant-request.js'
import type { SharedTokens } from './shared-tokens.js'
import type { ResolvedTarget } from './targets.js'
import type { Fetcher, Lease, TokenSource } from './token-source.js'

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token'

/** The service's own token for one target: computed once per target, used on every call. */
export interface ServiceToken {
  readonly key: string
  readonly fetcher: Fetcher
  /** The cached token, or one fetched now. */
  readonly lease: () => Promise<Lease>
  /** Records that the target accepted `token` (issue 14, R12). */
  readonly accept: (token: string) => void
  /** The target's token for the client's current certificate: after a 401, or a renewal. */
  readonly again: () => Promise<Lease>
  /** The certificate thumbprint in `key`. */
  readonly certificate: string | undefined
}

/** The element of a cache key that names the client certificate `thumbprint`. */
export function certificateKeyPart(thumbprint: string): string {
  return `x5t#S256=${thumbprint}`
}

export interface Leases {
  service(target: ResolvedTarget): ServiceToken
  /** The exchanged token for `subject` at `target`, with its cache key. */
  exchange(subject: string, target: ResolvedTarget): { key: string; lease: Promise<Lease> }
}

/**
 * The leases of one service client; `tokenServer` (endpoint or issuer) goes into every key,
 * `jkt` (the DPoP key's thumbprint) when the client binds its tokens to a key, and the current
 * client certificate's thumbprint, read from `certificate`, when it has one. With `shared` (the
 * fleet's store, issue 21), service tokens go through it; exchanged tokens never do (per user).
 */
export function createLeases(
  source: TokenSource,
  grant: Grant,
  identity: ClientIdentity,
  tokenServer: string | undefined,
  jkt: string | undefined,
  certificate: (() => string | undefined) | undefined,
  shared: SharedTokens | undefined,
): Leases {
  const services = new WeakMap<ResolvedTarget, ServiceToken>()
  const bound = (): string[] => {
    const thumbprint = certificate?.()
    return [
      ...(jkt === undefined ? [] : [jkt]),
      ...(thumbprint === undefined ? [] : [certificateKeyPart(thumbprint)]),
    ]
  }
  const leases: Leases = {
    service(target) {
      let entry = services.get(target)
      // Without a certificate, one entry per target for the life of the client.
      if (
        entry === undefined ||
        (certificate !== undefined && entry.certificate !== certificate())
      ) {
        // The key takes the client id known at the first call (with registration: before it).
        const thumbprint = certificate?.()
        const key = JSON.stringify([
          'cc',
          tokenServer,
          identity.id,
          target.scope,
          target.audience,
          target.resource,
          ...bound(),
        ])
        const request: Fetcher = (refresh) =>
          grant(
            withTarget(new URLSearchParams({ grant_type: 'client_credentials' }), target),
            target,
            refresh,
          )
        const fetcher = shared === undefined ? request : shared.wrap(key, request)
        entry = {
          key,
          fetcher,
          lease: () => source.get(key, fetcher),
          accept: (token) => {
            source.accepted(key, token)
          },
          again: () => leases.service(target).lease(),
          certificate: thumbprint,
        }
        services.set(target, entry)
      }
      return entry
    },

    exchange(subject, target) {
      const hash = createHash('sha256').update(subject).digest('base64url')
      const key = JSON.stringify([
        'x',
        tokenServer,
        identity.id,
        hash,
        target.scope,
        target.audience,
        target.resource,
        ...bound(),
      ])
      const form = new URLSearchParams({
        grant_type: TOKEN_EXCHANGE,
        subject_token: subject,
        subject_token_type: ACCESS_TOKEN,
        requested_token_type: ACCESS_TOKEN,
      })
      return {
        key,
        lease: source.get(key, (refresh) => grant(withTarget(form, target), target, refresh)),
      }
    },
  }
  return leases
}
