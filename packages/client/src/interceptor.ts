/**
 * The undici interceptor (`Dispatcher.compose`): gets a token, then dispatches with it; only
 * configured origins (exact scheme, host and port) ever get one, and a caller-supplied
 * Authorization header is left untouched. On a 401 it retries once with a new token, but never
 * for a token fetched during this same call, a forwarded user token, a challenge for another
 * scheme, or a body that cannot be replayed (bodies up to a cap are buffered for replay). A
 * successful answer is reported to the plan, so that a token the target accepted and then rejects
 * (a revocation) can be replaced at once. Uses only the v2 handler callbacks; failures before
 * dispatch go to `onResponseError`.
 */
import type { Duplex } from 'node:stream'
import type { Dispatcher } from 'undici'
import { TokenEndpointError } from './errors.js'
import { B64TOKEN } from './lib/bounded.js'
import { plainBody, prepareBody, type PreparedBody } from './lib/replay-body.js'

/** The token to send, and how to get a replacement after a 401 (undefined: no retry). */
export interface TokenPlan {
  readonly token: string
  readonly renew: (() => Promise<string>) | undefined
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

type Handler = Dispatcher.DispatchHandler
type Controller = Dispatcher.DispatchController
type Dispatch = Dispatcher.Dispatch
type Headers = Record<string, string | string[]>

/** The token that last passed B64TOKEN: a cached token is checked once, not on every call. */
let lastValidToken: string | undefined
const HELD_BODY_CAP = 65_536

/**
 * Builds the interceptor.
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
  return (dispatch) =>
    function svcauthDispatch(opts, handler) {
      const origin = originOf(opts.origin)
      const headers = normalizeHeaders(opts.headers)
      if (origin === undefined || headers.authorization !== undefined)
        return dispatch(opts, handler)
      const plan = planner(origin)
      if (plan === undefined) return dispatch(opts, handler)
      new Call(dispatch, opts, headers, handler, options.maxReplayBytes).start(plan)
      return true
    }
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

class Call {
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
    readonly maxReplayBytes: number,
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
    Promise.all([pending, prepareBody(this.opts.body, this.maxReplayBytes)]).then(
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
    if (token !== lastValidToken && !B64TOKEN.test(token)) {
      this.fail(
        new TokenEndpointError('invalid_response', { description: 'unusable access token' }),
      )
      return
    }
    lastValidToken = token
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

/** Parsed origins by the string undici was given: a service calls few origins, many times. */
const origins = new Map<string, string | undefined>()
const ORIGINS_MEMO_MAX = 1024

function originOf(origin: Dispatcher.DispatchOptions['origin']): string | undefined {
  if (origin === undefined) return undefined
  const text = String(origin)
  if (origins.has(text)) return origins.get(text)
  let parsed: string | undefined
  try {
    parsed = new URL(text).origin
  } catch {
    parsed = undefined
  }
  if (origins.size < ORIGINS_MEMO_MAX) origins.set(text, parsed)
  return parsed
}

/** Dispatch headers arrive as an object, a flat array or an iterable of pairs; returns an object. */
function normalizeHeaders(headers: Dispatcher.DispatchOptions['headers']): Headers {
  const out: Headers = {}
  const add = (name: string, value: string | string[]): void => {
    const key = name.toLowerCase()
    const prev = out[key]
    out[key] = prev === undefined ? value : ([] as string[]).concat(prev, value)
  }
  if (headers == null) return out
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const [k, v] of headers as unknown as [string, string][]) add(k, v)
    } else {
      for (let i = 0; i + 1 < headers.length; i += 2)
        add(String(headers[i]), String(headers[i + 1]))
    }
    return out
  }
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [k, v] of headers as Iterable<[string, string]>) add(k, v)
    return out
  }
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (v !== undefined) add(k, v)
  }
  return out
}
