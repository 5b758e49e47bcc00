/**
 * One issuer's RFC 7662 introspection endpoint, shared by opaque tokens (`introspection.ts`) and
 * introspected JWTs (`introspection-jwt.ts`, issue 20, item 3): the form POST of §2.1 (`token`,
 * `token_type_hint=access_token`) with the configured client authentication (RFC 6749 §2.3.1) and
 * headers, a timeout, a byte cap and no redirects, and the first check of the §2.2 answer (a JSON
 * object with a boolean `active`). Anything else — unreachable, slow, non-200, not RFC 7662 — is
 * 503 `introspection_unavailable`, logged at most once per interval and kept for `status()`. A
 * discovered endpoint is discovered again after a failed call (issue 14, R11;
 * `lib/discovered-address.ts`). Each call is published on `svcauth:introspection:request` when
 * someone listens.
 */
import { createHash } from 'node:crypto'
import type { Dispatcher } from 'undici'
import {
  introspectionChannel,
  type IntrospectionEvent,
  type IntrospectionFormat,
} from './diagnostics.js'
import type { AuthError, Reject } from './errors.js'
import type { ResolvedIntrospection } from './introspection-options.js'
import { DiscoveredAddress } from './lib/discovered-address.js'
import { LogThrottle } from './lib/log-throttle.js'
import { basicAuthorization } from './lib/form.js'
import { HttpError, httpRequest, type HttpLimits } from './lib/http.js'
import type { HttpAllowance } from './lib/urls.js'
import type { Logger } from './logger.js'

export interface IntrospectionEndpointConfig {
  readonly issuer: string
  readonly options: ResolvedIntrospection
  readonly allowInsecureHttp: HttpAllowance
  /** Minimum time between two discoveries of the endpoint, ms (the `jwks.cooldown`). */
  readonly discoveryCooldown: number
  readonly dispatcher: Dispatcher | undefined
  readonly logger: Logger
  /** Makes the verifier's errors, in its realm. */
  readonly reject: Reject
}

/** An RFC 7662 §2.2 answer that passed the first check: a JSON object with a boolean `active`. */
export type IntrospectionAnswer = Readonly<Record<string, unknown>> & { readonly active: boolean }

/**
 * Why an answer that is RFC 7662 is still no answer about this token (a message for the log), or
 * undefined when it is one.
 */
export type AnswerCheck = (answer: IntrospectionAnswer) => string | undefined

/** The introspection endpoint's state in `authenticator.status()` (issue 16, item 2). */
export interface IntrospectionStatus {
  /** The endpoint in use: configured, or the last one discovered; undefined before discovery. */
  readonly endpoint: string | undefined
  /** The last failed call (never an inactive answer: that is the token's fault). */
  readonly lastFailure?: {
    readonly reason: 'introspection_failed'
    readonly message: string
    readonly at: Date
  }
}

const LOG_INTERVAL_MS = 10_000

function parseJson(body: Buffer): { readonly value: unknown } | undefined {
  try {
    return { value: JSON.parse(body.toString('utf8')) as unknown }
  } catch {
    return undefined
  }
}

/** An OAuth error answer's `error` (RFC 6749 §5.2: printable ASCII, no quote or backslash). */
function oauthErrorCode(body: { readonly value: unknown } | undefined): string | undefined {
  const error = (body?.value as { error?: unknown } | null | undefined)?.error
  return typeof error === 'string' && /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(error)
    ? error
    : undefined
}

/** The SHA-256 of a token, base64url: the caches' and the in-flight calls' key, never the token. */
export function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

export class IntrospectionEndpoint {
  readonly #config: IntrospectionEndpointConfig
  readonly #endpoint: DiscoveredAddress
  readonly #log = new LogThrottle(LOG_INTERVAL_MS)
  #lastFailure: IntrospectionStatus['lastFailure']

  constructor(config: IntrospectionEndpointConfig) {
    this.#config = config
    this.#endpoint = new DiscoveredAddress({
      issuer: config.issuer,
      member: 'introspection_endpoint',
      configured: config.options.endpoint,
      allowInsecureHttp: config.allowInsecureHttp,
      cooldown: config.discoveryCooldown,
      maxBytes: 262_144,
    })
  }

  /**
   * The endpoint's answer about `token` (`format` labels the published event); `check` may find
   * an RFC 7662 answer unusable all the same. Rejects with the `introspection_unavailable`
   * AuthError, logged here, when no usable answer came: the caller must not cache it.
   */
  async ask(
    token: string,
    format: IntrospectionFormat,
    check?: AnswerCheck,
  ): Promise<IntrospectionAnswer> {
    let body: unknown
    try {
      body = await this.#introspect(token)
    } catch (cause) {
      throw this.#failed(cause, format)
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw this.#failed(new Error('introspection answer is not a JSON object'), format)
    }
    const answer = body as Record<string, unknown>
    // A missing or non-boolean `active` is the endpoint's fault, not the token's: 503, not 401.
    if (typeof answer.active !== 'boolean') {
      throw this.#failed(new Error('introspection answer has no boolean "active"'), format)
    }
    const usable = answer as IntrospectionAnswer
    const problem = check?.(usable)
    if (problem !== undefined) throw this.#failed(new Error(problem), format)
    this.#publish('ok', format)
    return usable
  }

  status(): IntrospectionStatus {
    const endpoint = this.#endpoint.current
    const lastFailure = this.#lastFailure
    return Object.freeze(lastFailure === undefined ? { endpoint } : { endpoint, lastFailure })
  }

  /** A failed call: recorded, logged (rate-limited), published, made into the 503. */
  #failed(cause: unknown, format: IntrospectionFormat): AuthError {
    this.#logFailure(cause)
    this.#publish('error', format)
    return this.#config.reject('introspection_unavailable', { cause })
  }

  #limits(): HttpLimits {
    const { options, dispatcher } = this.#config
    return { timeout: options.timeout, maxBytes: options.maxBytes, dispatcher }
  }

  /** The raw answer; after a failed call to a discovered endpoint, once more where it moved. */
  async #introspect(token: string): Promise<unknown> {
    const limits = this.#limits()
    const endpoint = await this.#endpoint.get(limits)
    try {
      return await this.#call(endpoint, token, limits)
    } catch (err) {
      const moved = await this.#endpoint.moved(endpoint, limits)
      if (moved === undefined) throw err
      return this.#call(moved, token, limits)
    }
  }

  async #call(endpoint: string, token: string, limits: HttpLimits): Promise<unknown> {
    const { options } = this.#config
    const form = new URLSearchParams({ token, token_type_hint: 'access_token' })
    const headers: Record<string, string> = { ...options.headers }
    if (options.authMethod === 'client_secret_basic') {
      headers.authorization = basicAuthorization(options.clientId ?? '', options.clientSecret ?? '')
    } else if (options.authMethod === 'client_secret_post') {
      form.set('client_id', options.clientId ?? '')
      form.set('client_secret', options.clientSecret ?? '')
    }
    headers.accept = 'application/json'
    headers['content-type'] = 'application/x-www-form-urlencoded'
    const res = await httpRequest(
      endpoint,
      { method: 'POST', headers, body: form.toString() },
      limits,
    )
    const body = parseJson(res.body)
    if (res.status !== 200) {
      // Say what the server said (`invalid_client`, oidc-provider's `unsupported_token_type` for
      // JWTs it will not introspect), so the log tells a refusal from an outage.
      const code = oauthErrorCode(body)
      throw new HttpError(
        'status',
        `expected 200, got ${res.status}${code === undefined ? '' : ` (${code})`}`,
        res.status,
      )
    }
    if (body === undefined) throw new HttpError('bad_json', 'response is not JSON', res.status)
    return body.value
  }

  #publish(result: IntrospectionEvent['result'], format: IntrospectionFormat): void {
    if (!introspectionChannel.hasSubscribers) return
    const event: IntrospectionEvent = { issuer: this.#config.issuer, result, format }
    introspectionChannel.publish(event)
  }

  /** One error line per interval, with how many failures it stands for. */
  #logFailure(cause: unknown): void {
    const message = cause instanceof Error ? cause.message : 'error'
    this.#lastFailure = Object.freeze({
      reason: 'introspection_failed' as const,
      message,
      at: new Date(),
    })
    this.#log.run((suppressed) => {
      this.#config.logger.error(
        {
          event: 'introspection_failed',
          issuer: this.#config.issuer,
          error: message,
          ...(suppressed > 0 ? { suppressed } : {}),
        },
        'svcauth: token introspection failed',
      )
    })
  }
}
