/**
 * Bounded JSON requests for key sets, metadata (GET) and introspection (a form POST): a timeout
 * over the whole exchange, a byte cap checked on `Content-Length` and again while streaming, 200
 * only (redirects are never followed: undici's `request` follows none without the redirect
 * interceptor), and no credentials or cookies beyond what the caller passes.
 */
import { request, type Dispatcher } from 'undici'

export interface FetchLimits {
  readonly timeout: number
  readonly maxBytes: number
  readonly dispatcher?: Dispatcher | undefined
}

/** Why a fetch failed, without the response body (which may be attacker-controlled). */
export class FetchError extends Error {
  override readonly name = 'FetchError'
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** A form POST instead of a GET: the encoded body and extra headers (client authentication). */
export interface FormPost {
  readonly form: string
  readonly headers: Readonly<Record<string, string>>
}

export async function fetchJson(
  url: string,
  accept: string,
  limits: FetchLimits,
  post?: FormPost,
): Promise<unknown> {
  const signal = AbortSignal.timeout(limits.timeout)
  let res: Dispatcher.ResponseData
  try {
    res = await request(url, {
      method: post === undefined ? 'GET' : 'POST',
      headers:
        post === undefined
          ? { accept, 'user-agent': 'svcauth' }
          : {
              ...post.headers,
              accept,
              'user-agent': 'svcauth',
              'content-type': 'application/x-www-form-urlencoded',
            },
      ...(post === undefined ? {} : { body: post.form }),
      signal,
      headersTimeout: limits.timeout,
      bodyTimeout: limits.timeout,
      ...(limits.dispatcher === undefined ? {} : { dispatcher: limits.dispatcher }),
    })
  } catch (cause) {
    throw new FetchError(`request failed: ${describe(cause)}`, undefined, { cause })
  }
  if (res.statusCode !== 200) {
    discard(res.body)
    throw new FetchError(`expected 200 OK, got ${res.statusCode}`, res.statusCode)
  }
  const declared = Number(res.headers['content-length'])
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    discard(res.body)
    throw new FetchError(`response of ${declared} bytes exceeds the ${limits.maxBytes}-byte cap`)
  }
  const chunks: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length
      if (total > limits.maxBytes) {
        discard(res.body)
        throw new FetchError(`response exceeds the ${limits.maxBytes}-byte cap`)
      }
      chunks.push(chunk)
    }
  } catch (cause) {
    if (cause instanceof FetchError) throw cause
    throw new FetchError(`reading the response failed: ${describe(cause)}`, 200, { cause })
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown
  } catch (cause) {
    throw new FetchError('response is not JSON', 200, { cause })
  }
}

/** Drops a response body without reading it; the abort error this raises is expected. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined)
  body.destroy()
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' ? `${code} ${err.name}` : err.name
  }
  return 'unknown error'
}
