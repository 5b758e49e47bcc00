/**
 * Reading undici's dispatch options: the origin a call goes to, parsed once per distinct string
 * (a service calls few origins, many times), and the request headers, which arrive as an object,
 * a flat array or an iterable of pairs.
 */
import type { Dispatcher } from 'undici'

export type Headers = Record<string, string | string[]>

const ORIGINS_MEMO_MAX = 1024

/**
 * A parser of `opts.origin` with its own memo of up to 1,024 origins (one per interceptor, so
 * clients share no state): `scheme://host:port`, or undefined when it is not a URL.
 */
export function originParser(): (
  origin: Dispatcher.DispatchOptions['origin'],
) => string | undefined {
  const origins = new Map<string, string | undefined>()
  return function originOf(origin) {
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
}

/** Dispatch headers arrive as an object, a flat array or an iterable of pairs; returns an object. */
export function normalizeHeaders(headers: Dispatcher.DispatchOptions['headers']): Headers {
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
