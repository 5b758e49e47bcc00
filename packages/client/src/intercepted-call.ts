/**
 * One intercepted call: it waits for its token plan and (for a stream) its replayable body,
 * dispatches with `Authorization: Bearer`, holds back a Bearer 401 and replays once with a
 * renewed token, and reports a success to the plan. The caller's handler sees one
 * `onRequestStart`, with a controller that follows the current attempt, and only the v2 handler
 * callbacks; failures before dispatch go to its `onResponseError`.
 */
import type { Duplex } from 'node:stream'
import type { Dispatcher } from 'undici'
import { TokenEndpointError } from './errors.js'
import type { TokenPlan } from './interceptor.js'
import { B64TOKEN } from './lib/b64token.js'
import type { Headers } from './lib/dispatch-options.js'
import { plainBody, prepareBody, type PreparedBody } from './lib/replay-body.js'

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
}

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

/** One call to a configured origin, over one or two attempts (see the module header). */
export class Call {
  readonly controller = new ProxyController()
  #started = false
  #done = false
  #body: PreparedBody | undefined
  #plan: TokenPlan | undefined

  constructor(
    readonly dispatch: Dispatch,
    readonly opts: Dispatcher.DispatchOptions,
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
        this.send(pending.token, body.first(), false)
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
        this.send(plan.token, body.first(), false)
      },
      (err: unknown) => {
        signal?.removeEventListener?.('abort', onAbort)
        this.fail(err instanceof Error ? err : new Error(String(err)))
      },
    )
  }

  send(token: string, body: Dispatcher.DispatchOptions['body'], retry: boolean): void {
    if (!this.settings.tokens.usable(token)) {
      this.fail(
        new TokenEndpointError('invalid_response', { description: 'unusable access token' }),
      )
      return
    }
    const opts: Dispatcher.DispatchOptions = {
      ...this.opts,
      headers: { ...this.headers, authorization: `Bearer ${token}` },
      body: body ?? null,
    }
    this.dispatch(opts, new Attempt(this, retry, token))
  }

  /** The target answered a call made with `token` with success. */
  accepted(token: string): void {
    this.#plan?.accepted?.(token)
  }

  /** After a swallowed 401: a new token and one replay; if that fails, the held 401 is delivered. */
  retry(held: Held): void {
    const plan = this.#plan
    const body = this.#body
    if (plan?.renew === undefined || body?.replayable !== true) {
      this.deliver(held)
      return
    }
    const replay = body.replay()
    // Called on the plan, which may be a class instance whose renew needs its `this`.
    plan.renew().then(
      (token) => {
        if (!this.#done) this.send(token, replay, true)
      },
      () => {
        this.deliver(held)
      },
    )
  }

  mayRetry(status: number, headers: Record<string, string | string[] | undefined>): boolean {
    if (status !== 401 || this.#plan?.renew === undefined || this.#body?.replayable !== true)
      return false
    const challenge = headers['www-authenticate']
    const first = Array.isArray(challenge) ? challenge[0] : challenge
    return first === undefined || /^bearer\b/i.test(first)
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
  constructor(
    readonly call: Call,
    readonly isRetry: boolean,
    readonly token: string,
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
    if (!this.isRetry && this.call.mayRetry(status, headers)) {
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
      this.call.retry(this.#held)
      return
    }
    this.call.finish()
    this.call.handler.onResponseEnd?.(this.call.controller, trailers)
  }

  onResponseError(controller: Controller, err: Error): void {
    this.call.fail(err)
  }
}
