/**
 * The undici interceptor (`Dispatcher.compose`): gets a token, then dispatches with it; only
 * configured origins (exact scheme, host and port) ever get one, and a caller-supplied
 * Authorization header is left untouched. On a 401 it retries once with a new token, but never
 * for a token fetched during this same call, a forwarded user token, a challenge for another
 * scheme, or a body that cannot be replayed (bodies up to a cap are buffered for replay). A
 * DPoP-bound token (RFC 9449 §7.1) goes out as `Authorization: DPoP` with a fresh proof per
 * dispatch, and a target's `use_dpop_nonce` (§9) gets one more retry with its nonce
 * (intercepted-call.ts has the exact bound). A token bound to a TLS client certificate (RFC 8705
 * §3) is sent only when the target's connections present that certificate, else the call fails
 * with CertificateBindingError, unsent. A successful answer is reported to the plan, so that
 * a token the target accepted and then rejects (a revocation) can be replaced at once. Uses only
 * the v2 handler callbacks; failures before dispatch go to `onResponseError`
 * (intercepted-call.ts). An interceptor keeps its own memo of parsed origins and of the last
 * checked token: clients share no state.
 */
import type { Dispatcher } from 'undici'
import type { DpopProver } from './dpop.js'
import { Call, TokenCheck, type CallSettings } from './intercepted-call.js'
import type { CertificateBindings } from './tls-dispatcher.js'
import { normalizeHeaders, originParser } from './lib/dispatch-options.js'
import { numberIn, optionError } from './lib/option-checks.js'

/**
 * How a token is presented: `Authorization: Bearer` (RFC 6750), or `Authorization: DPoP` with a
 * `DPoP` proof made for each dispatch (RFC 9449 §7.1), which only the service client's own
 * interceptor (`svc.interceptor`, with the `dpop` option) can make.
 */
export type TokenScheme = 'Bearer' | 'DPoP'

/** A replacement token, its scheme and the client certificate it is bound to, if any. */
export interface RenewedToken {
  readonly token: string
  readonly scheme: TokenScheme
  /** See {@link TokenPlan.certificate}. */
  readonly certificate?: string | undefined
}

/** The token to send, and how to get a replacement after a 401 (undefined: no retry). */
export interface TokenPlan {
  readonly token: string
  /** @default 'Bearer' */
  readonly scheme?: TokenScheme | undefined
  /**
   * `x5t#S256` of the TLS client certificate the token is bound to (RFC 8705 §3): the call is
   * sent only when the target's connections present that certificate, else it fails with
   * CertificateBindingError. Only the service client's own interceptor knows what its
   * connections present: a plan with a certificate given to `tokenInterceptor` fails the call.
   * @default undefined (not bound to a certificate)
   */
  readonly certificate?: string | undefined
  /** A replacement token; a bare string keeps the plan's scheme. */
  readonly renew: (() => Promise<string | RenewedToken>) | undefined
  /**
   * Told the token a call was made with when the target answered it with success (2xx or 3xx),
   * so that a later 401 for that token reads as a revocation rather than a misconfiguration.
   */
  readonly accepted?: ((token: string) => void) | undefined
}

/**
 * Decides the token for a call to `origin`: a plan at once when a cached token is at hand, a
 * promise of one when it must be fetched, undefined when the origin gets none.
 */
export type Planner = (origin: string) => TokenPlan | Promise<TokenPlan> | undefined

/**
 * Builds the interceptor. `maxReplayBytes` (0 to 64 MiB) caps the stream bodies buffered for a
 * replay after a 401.
 *
 * @example
 * ```ts
 * const agent = new Agent().compose(tokenInterceptor(planner, { maxReplayBytes: 1 << 20 }))
 * ```
 */
export function tokenInterceptor(
  planner: Planner,
  options: { maxReplayBytes: number },
): Dispatcher.DispatcherComposeInterceptor {
  return serviceInterceptor(planner, options.maxReplayBytes, undefined, undefined)
}

/**
 * The interceptor of a service client: `tokenInterceptor` with the client's DPoP prover and what
 * its TLS connections present, if any.
 */
export function serviceInterceptor(
  planner: Planner,
  maxReplayBytes: number,
  dpop: DpopProver | undefined,
  certificates: CertificateBindings | undefined,
): Dispatcher.DispatcherComposeInterceptor {
  if (typeof planner !== 'function') optionError('tokenInterceptor needs a planner function')
  const settings: CallSettings = Object.freeze({
    maxReplayBytes: numberIn('maxReplayBytes', maxReplayBytes, 1 << 20, 0, 64 << 20),
    tokens: new TokenCheck(),
    dpop,
    certificates,
  })
  const originOf = originParser()
  return (dispatch) =>
    function svcauthDispatch(opts, handler) {
      const origin = originOf(opts.origin)
      const headers = normalizeHeaders(opts.headers)
      if (origin === undefined || headers.authorization !== undefined)
        return dispatch(opts, handler)
      const plan = planner(origin)
      if (plan === undefined) return dispatch(opts, handler)
      new Call(dispatch, opts, origin, headers, handler, settings).start(plan)
      return true
    }
}
