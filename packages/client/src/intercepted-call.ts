/**
 * One intercepted call: it waits for its token plan and (for a stream) its replayable body,
 * dispatches with `Authorization: Bearer`, holds back a Bearer 401 and replays once with a
 * renewed token, and reports a success to the plan. The caller's handler sees one
 * `onRequestStart`, with a controller that follows the current attempt, and only the v2 handler
 * callbacks; failures before dispatch go to its `onResponseError`.
 *
 * A DPoP-bound token (RFC 9449 §7.1) is sent as `Authorization: DPoP` with a `DPoP` proof signed
 * for this very dispatch (`htm`, `htu`, `ath`, the origin's latest nonce), and with
 * `maxRedirections: 0`, so that a redirect interceptor inside the caller's dispatcher hands a 3xx
 * back instead of re-sending the proof (and, cross-origin, the `DPoP` header undici does not
 * strip) to another URL; fetch follows redirects through this interceptor again, one proof per
 * hop. Every answer's `DPoP-Nonce` is kept for its origin (§9). A 401 for a DPoP call is retried:
 * - with the target's new nonce, when its DPoP challenge says `use_dpop_nonce` and the answer
 *   carries a nonce other than the one sent (at most once per call);
 * - with a renewed token, when its DPoP challenge says `invalid_token`, or there is no challenge
 *   (at most once per call, on the same conditions as for Bearer).
 * So a DPoP call is dispatched at most three times (one nonce retry and one token retry, in
 * either order), a Bearer call at most twice; each retry replays the buffered body and needs it
 * replayable.
 *
 * A token bound to a TLS client certificate (RFC 8705 §3) is sent only when the target's
 * connections present that certificate now (the check and the dispatch that follows it read the
 * same material). When a renewal of the certificate replaced it since the token was obtained,
 * the token retry happens before anything is sent: a token for the new certificate, once. Any
 * other mismatch fails the call with CertificateBindingError, unsent.
 */
import type { Duplex } from 'node:stream'
import type { Dispatcher } from 'undici'
import { htuOf } from './dpop.js'
import type { DpopProver } from './dpop.js'
import { CertificateBindingError, TokenEndpointError } from './errors.js'
import type { RenewedToken, TokenPlan, TokenScheme } from './interceptor.js'
import { B64TOKEN } from './lib/b64token.js'
import { challengeError } from './lib/challenge.js'
import type { Headers } from './lib/dispatch-options.js'
import { plainBody, prepareBody, type PreparedBody } from './lib/replay-body.js'
import type { CertificateBindings } from './tls-dispatcher.js'

type Handler = Dispatcher.DispatchHandler
type Controller = Dispatcher.DispatchController
type Dispatch = Dispatcher.Dispatch

const HELD_BODY_CAP = 65_536

/**
 * Every token is checked to be a b64token before it goes into a header (RFC 6750 §2.1, catalogue
 * K10: no CR/LF or space can reach one). The token that last passed is remembered, so that a
 * cached token is checked once, not on every call; one per interceptor, shared by its calls.
 */
export class TokenCheck {
  #last: string | undefined

  usable(token: string): boolean {
    if (token !== this.#last) {
      if (!B64TOKEN.test(token)) return false
      this.#last = token
    }
    return true
  }
}

/** What the calls of one interceptor share. */
export interface CallSettings {
  readonly maxReplayBytes: number
  readonly tokens: TokenCheck
  /** The service client's DPoP prover; undefined when `dpop` is off. */
  readonly dpop: DpopProver | undefined
  /** What the service client's connections present (RFC 8705); undefined without its own TLS. */
  readonly certificates: CertificateBindings | undefined
}

/** Why a held 401 is retried. */
type RetryKind = 'token' | 'nonce'

/** Forwards controller calls to whichever attempt is current. */
class ProxyController implements Controller {
  current: Controller | undefined
  #aborted: Error | undefined
  abort(reason: Error): void {
    this.#aborted = reason
    this.current?.abort(reason)
  }
  pause(): void {
    this.current?.pause()
  }
  resume(): void {
    this.current?.resume()
  }
  get paused(): boolean {
    return this.current?.paused ?? false
  }
  get aborted(): boolean {
    return this.#aborted !== undefined || (this.current?.aborted ?? false)
  }
  get reason(): Error | null {
    return this.#aborted ?? this.current?.reason ?? null
  }
}

/** One call to a configured origin, over one to three attempts (see the module header). */
export class Call {
  readonly controller = new ProxyController()
  #started = false
  #done = false
  #body: PreparedBody | undefined
  #plan: TokenPlan | undefined
  #tokenRetried = false
  #nonceRetried = false

  constructor(
    readonly dispatch: Dispatch,
    readonly opts: Dispatcher.DispatchOptions,
    readonly origin: string,
    readonly headers: Headers,
    readonly handler: Handler,
    readonly settings: CallSettings,
  ) {}

  start(pending: TokenPlan | Promise<TokenPlan>): void {
    // The steady state: a cached token and a body that needs no reading. No promise at all.
    if (!(pending instanceof Promise)) {
      const body = plainBody(this.opts.body)
      if (body !== undefined) {
        this.#plan = pending
        this.#body = body
        this.send(pending.token, pending.scheme, body.first(), pending.certificate)
        return
      }
    }
    // request() only watches its signal once dispatched: honour it while waiting for a token.
    const signal = (this.opts as { signal?: Partial<AbortSignal> }).signal
    const onAbort = (): void => {
      const reason: unknown = signal?.reason
      this.fail(reason instanceof Error ? reason : new Error('aborted'))
    }
    signal?.addEventListener?.('abort', onAbort, { once: true })
    Promise.all([pending, prepareBody(this.opts.body, this.settings.maxReplayBytes)]).then(
      ([plan, body]) => {
        signal?.removeEventListener?.('abort', onAbort)
        if (this.#done || signal?.aborted === true) return
        this.#plan = plan
        this.#body = body
        this.send(plan.token, plan.scheme, body.first(), plan.certificate)
      },
      (err: unknown) => {
        signal?.removeEventListener?.('abort', onAbort)
        this.fail(err instanceof Error ? err : new Error(String(err)))
      },
    )
  }

  send(
    token: string,
    scheme: TokenScheme | undefined,
    body: Dispatcher.DispatchOptions['body'],
    certificate: string | undefined,
  ): void {
    if (!this.settings.tokens.usable(token)) {
      this.fail(
        new TokenEndpointError('invalid_response', { description: 'unusable access token' }),
      )
      return
    }
    if (certificate !== undefined && !this.#presents(certificate, scheme, body)) return
    if (scheme === 'DPoP') {
      this.#sendBound(token, body, certificate)
      return
    }
    const opts: Dispatcher.DispatchOptions = {
      ...this.opts,
      headers: { ...this.headers, authorization: `Bearer ${token}` },
      body: body ?? null,
    }
    this.dispatch(opts, new Attempt(this, token, scheme, undefined, certificate))
  }

  /**
   * Whether the target's connections present `certificate` now. If not: when a renewal replaced
   * it, the token is renewed (once) and sent by the renewal; otherwise the call fails.
   */
  #presents(
    certificate: string,
    scheme: TokenScheme | undefined,
    body: Dispatcher.DispatchOptions['body'],
  ): boolean {
    const certificates = this.settings.certificates
    const presented = certificates?.presented(this.origin)
    if (presented === certificate) return true
    const plan = this.#plan
    if (
      certificates?.replaced(this.origin, certificate) === true &&
      !this.#tokenRetried &&
      plan?.renew !== undefined
    ) {
      this.#tokenRetried = true
      plan.renew().then(
        (next: string | RenewedToken) => {
          if (this.#done) return
          if (typeof next === 'string') this.send(next, scheme, body, certificate)
          else this.send(next.token, next.scheme, body, next.certificate)
        },
        (err: unknown) => {
          this.fail(err instanceof Error ? err : new Error(String(err)))
        },
      )
      return false
    }
    this.fail(new CertificateBindingError(this.origin, certificate, presented))
    return false
  }

  /** Sends a DPoP-bound token with a proof made now (see the module header). */
  #sendBound(
    token: string,
    body: Dispatcher.DispatchOptions['body'],
    certificate: string | undefined,
  ): void {
    const dpop = this.settings.dpop
    if (dpop === undefined) {
      this.fail(new TypeError('svcauth client: a DPoP token needs a client with the dpop option'))
      return
    }
    const nonce = dpop.nonces.get(this.origin)
    const method = this.opts.method
    const proof = dpop.proof(method, htuOf(this.origin, this.opts.path), nonce, token)
    const opts = {
      ...this.opts,
      headers: { ...this.headers, authorization: `DPoP ${token}`, dpop: proof },
      body: body ?? null,
      maxRedirections: 0,
    } as Dispatcher.DispatchOptions
    this.dispatch(opts, new Attempt(this, token, 'DPoP', nonce, certificate))
  }

  /** The target answered a call made with `token` with success. */
  accepted(token: string): void {
    this.#plan?.accepted?.(token)
  }

  /**
   * After a swallowed 401: one replay, with the same token and the origin's new nonce (`nonce`)
   * or with a new token (`token`); if no new token can be had, the held 401 is delivered.
   */
  retry(held: Held, kind: RetryKind, attempt: Attempt): void {
    const plan = this.#plan
    const body = this.#body
    if (plan === undefined || body?.replayable !== true) {
      this.deliver(held)
      return
    }
    const replay = body.replay()
    if (kind === 'nonce') {
      this.#nonceRetried = true
      this.settings.dpop?.publishRetry()
      this.send(attempt.token, attempt.scheme, replay, attempt.certificate)
      return
    }
    if (plan.renew === undefined) {
      this.deliver(held)
      return
    }
    this.#tokenRetried = true
    // Called on the plan, which may be a class instance whose renew needs its `this`.
    plan.renew().then(
      (next: string | RenewedToken) => {
        if (this.#done) return
        if (typeof next === 'string') this.send(next, attempt.scheme, replay, attempt.certificate)
        else this.send(next.token, next.scheme, replay, next.certificate)
      },
      () => {
        this.deliver(held)
      },
    )
  }

  /** Whether a held answer of `attempt` is retried, and how (see the module header). */
  retryFor(
    attempt: Attempt,
    status: number,
    headers: Record<string, string | string[] | undefined>,
  ): RetryKind | undefined {
    if (status !== 401 || this.#body?.replayable !== true) return undefined
    const challenge = headers['www-authenticate']
    const renewable = !this.#tokenRetried && this.#plan?.renew !== undefined
    if (attempt.scheme !== 'DPoP') {
      if (!renewable) return undefined
      const first = Array.isArray(challenge) ? challenge[0] : challenge
      return first === undefined || /^bearer\b/i.test(first) ? 'token' : undefined
    }
    const error = challenge === undefined ? undefined : challengeError(challenge, 'dpop')
    if (error === 'use_dpop_nonce') {
      const given = attempt.nonceGiven
      const fresh = given !== undefined && given !== attempt.nonceSent
      return !this.#nonceRetried && fresh ? 'nonce' : undefined
    }
    return renewable && (challenge === undefined || error === 'invalid_token') ? 'token' : undefined
  }

  started(context: object): void {
    if (this.#started) return
    this.#started = true
    this.handler.onRequestStart?.(this.controller, context)
  }

  deliver(held: Held): void {
    this.started({})
    this.handler.onResponseStart?.(this.controller, held.status, held.headers, held.message)
    for (const chunk of held.chunks) this.handler.onResponseData?.(this.controller, chunk)
    this.finish()
    this.handler.onResponseEnd?.(this.controller, {})
  }

  fail(err: Error): void {
    if (this.#done) return
    this.#done = true
    this.handler.onResponseError?.(this.#started ? this.controller : (null as never), err)
  }

  finish(): void {
    this.#done = true
  }
}

interface Held {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly message: string
  readonly chunks: Buffer[]
  size: number
}

/** One attempt's handler: passes everything through, except a 401 it may retry. */
class Attempt implements Handler {
  #held: Held | undefined
  #kind: RetryKind = 'token'
  /** The valid `DPoP-Nonce` this attempt's answer carried, if any. */
  nonceGiven: string | undefined

  constructor(
    readonly call: Call,
    readonly token: string,
    readonly scheme: TokenScheme | undefined,
    /** The nonce this attempt's proof carried (DPoP only). */
    readonly nonceSent: string | undefined,
    /** The client certificate the token is bound to, if any. */
    readonly certificate: string | undefined,
  ) {}

  onRequestStart(controller: Controller, context: object): void {
    this.call.controller.current = controller
    this.call.started(context)
  }

  onRequestUpgrade(
    controller: Controller,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    socket: Duplex,
  ): void {
    this.call.handler.onRequestUpgrade?.(this.call.controller, status, headers, socket)
  }

  onResponseStart(
    controller: Controller,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    message: string,
  ): void {
    if (this.scheme === 'DPoP') {
      // RFC 9449 §9: a target may send its next nonce on any answer.
      const nonce = headers['dpop-nonce']
      if (nonce !== undefined) {
        this.nonceGiven = this.call.settings.dpop?.nonces.update(this.call.origin, nonce)
      }
    }
    const kind = this.call.retryFor(this, status, headers)
    if (kind !== undefined) {
      this.#kind = kind
      this.#held = { status, headers, message, chunks: [], size: 0 }
      return
    }
    if (status >= 200 && status < 400) this.call.accepted(this.token)
    this.call.handler.onResponseStart?.(this.call.controller, status, headers, message)
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    const held = this.#held
    if (held === undefined) {
      this.call.handler.onResponseData?.(this.call.controller, chunk)
      return
    }
    if (held.size + chunk.length <= HELD_BODY_CAP) held.chunks.push(chunk)
    held.size += chunk.length
  }

  onResponseEnd(
    controller: Controller,
    trailers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.#held !== undefined) {
      this.call.retry(this.#held, this.#kind, this)
      return
    }
    this.call.finish()
    this.call.handler.onResponseEnd?.(this.call.controller, trailers)
  }

  onResponseError(controller: Controller, err: Error): void {
    this.call.fail(err)
  }
}
