/**
 * What the client's requests share: reading an answer within a byte cap (checked on
 * `Content-Length` and again while streaming), and the b64token syntax (RFC 6750 §2.1) every
 * token must have before it goes into a header (so no CR/LF or space can reach one).
 */
import type { Dispatcher } from 'undici'

export const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/** Builds the caller's typed error for a body that is too large or could not be read. */
export type BodyError = (
  code: 'invalid_response' | 'network_error',
  options: { status: number; description?: string; cause?: unknown },
) => Error

/** The answer's body as text, at most `maxBytes`; failures come from `toError`. */
export async function readCapped(
  res: Dispatcher.ResponseData,
  maxBytes: number,
  toError: BodyError,
): Promise<string> {
  const declared = Number(res.headers['content-length'])
  const tooBig = (): Error => {
    res.body.on('error', () => undefined)
    res.body.destroy()
    return toError('invalid_response', {
      status: res.statusCode,
      description: `response larger than ${String(maxBytes)} bytes`,
    })
  }
  if (Number.isFinite(declared) && declared > maxBytes) throw tooBig()
  const chunks: Buffer[] = []
  let total = 0
  let oversize: Error | undefined
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length
      if (total > maxBytes) {
        oversize = tooBig()
        break
      }
      chunks.push(chunk)
    }
  } catch (cause) {
    throw toError('network_error', { status: res.statusCode, cause })
  }
  if (oversize !== undefined) throw oversize
  return Buffer.concat(chunks).toString('utf8')
}
