/**
 * The one bounded HTTP exchange svcauth has with an authorization server: key sets and metadata
 * (GET), introspection (RFC 7662 §2.1, a form POST), and for the client token requests (RFC 6749
 * §4.4, a form POST) and registration (RFC 7591/7592: JSON with GET, POST, PUT or DELETE).
 *
 * - One deadline over the whole exchange: connect, headers and body (catalogue G5, G7).
 * - A response byte cap, checked on `Content-Length` and again while the body streams, so a huge
 *   answer is cut as soon as it passes the cap and never held in memory (catalogue G6).
 * - Redirects are never followed (undici's `request` follows none without the redirect
 *   interceptor): a 3xx is a failure of its own (or, when asked, an answer to report), so a
 *   request that may carry a client secret or a token never reaches a second host (catalogue G4).
 * - Failures are one typed {@link HttpError} with a `kind` and the status when there was one. Its
 *   message names what went wrong and never a URL, header or body: those may hold a secret or be
 *   written by an attacker.
 */
import { request, type Dispatcher } from 'undici'

/** The methods svcauth sends. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE'

/** How long an exchange may take and how large its answer may be. */
export interface HttpLimits {
  /** Deadline for the whole exchange (connect, headers and body), ms. */
  readonly timeout: number
  /** Largest accepted response body, bytes. */
  readonly maxBytes: number
  /** undici dispatcher (proxies, tests); undici's global dispatcher when absent. */
  readonly dispatcher?: Dispatcher | undefined
}

/** What to send. */
export interface HttpRequest {
  /** @default 'GET' */
  readonly method?: HttpMethod
  /** Request headers; `user-agent` is always `svcauth`. */
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | Uint8Array
  /**
   * The statuses that count as an answer: any other is a `status` failure and its body is not
   * read. When absent every status but a 3xx (see `redirects`) is returned with its body (the
   * token endpoint's 400 carries the OAuth error the caller needs).
   */
  readonly expect?: readonly number[]
  /**
   * What a 3xx is: a `redirect` failure (`'fail'`), or an answer read like any other status
   * (`'answer'`: the token endpoint and registration report a 3xx with the OAuth error and
   * `Retry-After` it carries). Either way it is never followed.
   * @default 'fail'
   */
  readonly redirects?: 'fail' | 'answer'
}

/** A complete answer within the limits. */
export interface HttpResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: Buffer
}

/**
 * Why an exchange failed: no answer within the deadline, no answer at all, a body over the cap,
 * a redirect, a status outside `expect`, or a body that is not JSON (from {@link httpJson}).
 */
export type HttpFailure = 'timeout' | 'network' | 'too_large' | 'redirect' | 'status' | 'bad_json'

/** A failed exchange. Branch on `kind`; `status` is set when the server answered. */
export class HttpError extends Error {
  override readonly name = 'HttpError'
  readonly kind: HttpFailure
  readonly status: number | undefined

  constructor(
    kind: HttpFailure,
    message: string,
    status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.kind = kind
    this.status = status
  }
}

/**
 * Sends one request and reads the whole answer within `limits`.
 *
 * @example
 * ```ts
 * const res = await httpRequest(endpoint, { method: 'POST', headers, body: form }, limits)
 * if (res.status !== 200) throw refusal(res.status, res.body)
 * ```
 */
export async function httpRequest(
  url: string,
  req: HttpRequest,
  limits: HttpLimits,
): Promise<HttpResponse> {
  const signal = AbortSignal.timeout(limits.timeout)
  let res: Dispatcher.ResponseData
  try {
    res = await request(url, {
      method: req.method ?? 'GET',
      headers: { ...req.headers, 'user-agent': 'svcauth' },
      ...(req.body === undefined ? {} : { body: req.body }),
      signal,
      headersTimeout: limits.timeout,
      bodyTimeout: limits.timeout,
      ...(limits.dispatcher === undefined ? {} : { dispatcher: limits.dispatcher }),
    })
  } catch (cause) {
    throw failed('request failed', cause, undefined, signal, limits)
  }
  const status = res.statusCode
  if (status >= 300 && status < 400 && req.redirects !== 'answer') {
    discard(res.body)
    throw new HttpError('redirect', `got a ${status} redirect, which is never followed`, status)
  }
  if (req.expect !== undefined && !req.expect.includes(status)) {
    discard(res.body)
    throw new HttpError('status', `expected ${req.expect.join(' or ')}, got ${status}`, status)
  }
  return {
    status,
    headers: res.headers,
    body: await readCapped(res, signal, limits),
  }
}

/**
 * Sends one request and parses its answer as JSON; only `expect` statuses (default 200) count.
 *
 * @example
 * ```ts
 * const jwks = await httpJson(jwksUri, { headers: { accept: 'application/jwk-set+json' } }, limits)
 * ```
 */
export async function httpJson(
  url: string,
  req: HttpRequest,
  limits: HttpLimits,
): Promise<unknown> {
  const res = await httpRequest(url, { ...req, expect: req.expect ?? OK }, limits)
  try {
    return JSON.parse(res.body.toString('utf8')) as unknown
  } catch (cause) {
    throw new HttpError('bad_json', 'response is not JSON', res.status, { cause })
  }
}

const OK: readonly number[] = Object.freeze([200])

async function readCapped(
  res: Dispatcher.ResponseData,
  signal: AbortSignal,
  limits: HttpLimits,
): Promise<Buffer> {
  const { maxBytes } = limits
  const declared = Number(res.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    discard(res.body)
    throw tooLarge(`response of ${declared} bytes exceeds the ${maxBytes}-byte cap`, res)
  }
  const chunks: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length
      if (total > maxBytes) {
        discard(res.body)
        throw tooLarge(`response exceeds the ${maxBytes}-byte cap`, res)
      }
      chunks.push(chunk)
    }
  } catch (cause) {
    if (cause instanceof HttpError) throw cause
    throw failed('reading the response failed', cause, res.statusCode, signal, limits)
  }
  return Buffer.concat(chunks, total)
}

function tooLarge(message: string, res: Dispatcher.ResponseData): HttpError {
  return new HttpError('too_large', message, res.statusCode)
}

// undici's own per-phase deadlines, set to the same value as the overall one.
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])

/** A transport failure: `timeout` once the deadline passed, else `network`. */
function failed(
  what: string,
  cause: unknown,
  status: number | undefined,
  signal: AbortSignal,
  limits: HttpLimits,
): HttpError {
  const code = (cause as { code?: unknown } | null)?.code
  if (signal.aborted || (typeof code === 'string' && TIMEOUT_CODES.has(code))) {
    return new HttpError('timeout', `${what}: no answer within ${limits.timeout} ms`, status, {
      cause,
    })
  }
  return new HttpError('network', `${what}: ${describe(cause)}`, status, { cause })
}

/** Drops a response body without reading it; the abort error this raises is expected. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined)
  body.destroy()
}

/** The error's code and class only: undici's messages may quote the URL. */
function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' ? `${code} ${err.name}` : err.name
  }
  return 'unknown error'
}
