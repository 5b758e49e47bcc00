/**
 * svcauth's events on `node:diagnostics_channel` (Node docs: "Diagnostics Channel"), for metrics:
 * `@svcauth/otel` turns them into OpenTelemetry instruments, and anyone may subscribe by name.
 * Names and payload shapes are public and documented in docs/design.md ("Diagnostics channels").
 *
 * Cost when nobody listens: none beyond reading `hasSubscribers`. Every publisher checks it
 * before building a payload or reading a clock, so the adapters' verified-cache hit and the
 * cached outbound token allocate nothing for it. Payloads never carry a token, a secret, a
 * subject or a claim: only outcomes, reasons, issuer and client ids (configuration, not
 * credentials) and durations.
 *
 * Channels are looked up by name, so a subscriber and a publisher that load two copies of this
 * package (source and dist, two versions) still meet (`diagnostics_channel.channel(name)` is
 * process-wide).
 */
import { channel } from 'node:diagnostics_channel'
import type { AuthErrorReason } from './errors.js'

/** The channel names, one per kind of event. */
export const CHANNELS = Object.freeze({
  /** Once per inbound request the authenticator decided: {@link InboundRequestEvent}. */
  inboundRequest: 'svcauth:inbound:request',
  /** Once per JWT verification that did not come from the verified-token cache: {@link VerifyEvent}. */
  inboundVerify: 'svcauth:inbound:verify',
  /** Once per JWKS fetch attempt, good or failed: {@link JwksFetchEvent}. */
  jwksFetch: 'svcauth:jwks:fetch',
  /** Once per call to the introspection endpoint (cached answers make none): {@link IntrospectionEvent}. */
  introspectionRequest: 'svcauth:introspection:request',
  /** Once per outbound token request (a grant), good or failed: {@link TokenRequestEvent}. */
  outboundTokenRequest: 'svcauth:outbound:token_request',
  /**
   * Once per outbound request sent again: after a target's 401 with a renewed token, or with a
   * server's new DPoP nonce (a target's 401 or a token endpoint's 400 `use_dpop_nonce`): {@link RetryEvent}.
   */
  outboundRetry: 'svcauth:outbound:retry',
} as const)

/** `svcauth:inbound:request`. */
export interface InboundRequestEvent {
  readonly outcome: 'authenticated' | 'anonymous' | 'rejected'
  /** Why a request was rejected (`AuthError.reason`); only with `outcome: 'rejected'`. */
  readonly reason?: AuthErrorReason
  /** `hit` when the Principal came from the verified-token cache; `miss` for everything else. */
  readonly cache: 'hit' | 'miss'
}

/** `svcauth:inbound:verify`: an uncached JWT verification (keys, signature, claims). */
export interface VerifyEvent {
  readonly result: 'ok' | 'error'
  /** Seconds, from `performance.now()`. */
  readonly duration: number
}

/** `svcauth:jwks:fetch`. */
export interface JwksFetchEvent {
  /** The configured issuer whose keys were fetched. */
  readonly issuer: string
  readonly result: 'ok' | 'error'
  /** When the last good key set was installed (ms since the epoch), this one included; undefined: never. */
  readonly lastSuccess: number | undefined
}

/** What was introspected: an opaque token, or a JWT after local verification (issue 20, item 3). */
export type IntrospectionFormat = 'opaque' | 'jwt'

/** `svcauth:introspection:request`. */
export interface IntrospectionEvent {
  readonly issuer: string
  /** `ok`: the endpoint gave a usable answer (active or not); `error`: unreachable or broken. */
  readonly result: 'ok' | 'error'
  /**
   * The token asked about. Absent from publishers older than issue 20, which only introspected
   * opaque tokens.
   */
  readonly format?: IntrospectionFormat
}

/** `svcauth:outbound:token_request`. */
export interface TokenRequestEvent {
  /** The service client's own `client_id` (an identifier, not a credential). */
  readonly clientId: string
  /** `client_credentials` or RFC 8693's token exchange. */
  readonly grantType: string
  readonly result: 'ok' | 'error'
  /** The `TokenEndpointError` code of a failure (`network_error`, `invalid_client`, …). */
  readonly error?: string
  /** Seconds, from `performance.now()`, including a retry at a newly discovered endpoint. */
  readonly duration: number
}

/** `svcauth:outbound:retry`. */
export interface RetryEvent {
  readonly clientId: string
  /**
   * Why it was sent again: `invalid_token`, a target refused the token and a new one was had;
   * `use_dpop_nonce`, a server asked for its new DPoP nonce (RFC 9449 §8, §9). Absent from
   * publishers older than DPoP (issue 18), which only retried on `invalid_token`.
   */
  readonly reason?: 'invalid_token' | 'use_dpop_nonce'
}

// Module-level references keep the channels alive (Node may collect an unreferenced channel
// with no subscribers), and make the publishers' `hasSubscribers` check a property read.
export const inboundRequestChannel = channel(CHANNELS.inboundRequest)
export const inboundVerifyChannel = channel(CHANNELS.inboundVerify)
export const jwksFetchChannel = channel(CHANNELS.jwksFetch)
export const introspectionChannel = channel(CHANNELS.introspectionRequest)
export const tokenRequestChannel = channel(CHANNELS.outboundTokenRequest)
export const retryChannel = channel(CHANNELS.outboundRetry)

/** The three inbound payloads that carry no reason, made once: nothing is allocated per request. */
export const INBOUND_EVENTS = Object.freeze({
  authenticatedHit: Object.freeze({ outcome: 'authenticated', cache: 'hit' }),
  authenticatedMiss: Object.freeze({ outcome: 'authenticated', cache: 'miss' }),
  anonymous: Object.freeze({ outcome: 'anonymous', cache: 'miss' }),
} as const satisfies Record<string, InboundRequestEvent>)

/** Publishes a rejection (only call it after checking `hasSubscribers`). */
export function publishRejection(reason: AuthErrorReason, hit: boolean): void {
  const event: InboundRequestEvent = { outcome: 'rejected', reason, cache: hit ? 'hit' : 'miss' }
  inboundRequestChannel.publish(event)
}
