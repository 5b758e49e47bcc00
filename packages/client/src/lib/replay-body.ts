/**
 * Makes a request body replayable for the retry after a 401: strings and buffers are replayable as
 * they are; streams and async iterables (what fetch() hands the dispatcher) are read up to a cap
 * and kept. A body larger than the cap is sent as it streams and makes the call non-retryable.
 */
import type { Dispatcher } from 'undici'

type Body = Dispatcher.DispatchOptions['body']

export interface PreparedBody {
  readonly replayable: boolean
  /** The body for the first attempt. */
  first(): Body
  /** The body for a replay (meaningful only when `replayable`). */
  replay(): Body | undefined
}

/** A body that is replayable as it is (none, a string or bytes); undefined for a stream. */
export function plainBody(body: Body): PreparedBody | undefined {
  if (body == null || typeof body === 'string' || body instanceof Uint8Array) {
    return { replayable: true, first: () => body, replay: () => body }
  }
  return undefined
}

export async function prepareBody(body: Body, maxBytes: number): Promise<PreparedBody> {
  const plain = plainBody(body)
  if (plain !== undefined) return plain
  const iterable = body as unknown as AsyncIterable<unknown>
  if (typeof iterable[Symbol.asyncIterator] !== 'function') {
    return { replayable: false, first: () => body, replay: () => undefined }
  }
  const iterator = iterable[Symbol.asyncIterator]()
  const chunks: Buffer[] = []
  let size = 0
  for (;;) {
    const next = await iterator.next()
    if (next.done === true) {
      const all = Buffer.concat(chunks)
      return { replayable: true, first: () => all, replay: () => all }
    }
    const chunk = toBuffer(next.value)
    chunks.push(chunk)
    size += chunk.length
    if (size > maxBytes) break
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield* chunks
    for (;;) {
      const next = await iterator.next()
      if (next.done === true) return
      yield toBuffer(next.value)
    }
  }
  const stream = rest()
  return { replayable: false, first: () => stream as unknown as Body, replay: () => undefined }
}

function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  return Buffer.from(String(value))
}
