/**
 * The HTTP plumbing every endpoint of the test issuer shares: reading a request body under a cap,
 * answering JSON or text, HTTP Basic client credentials (RFC 6749 §2.3.1: id and secret are
 * form-urlencoded before base64), and the scripted faults (`hang`, `down`, a custom answer) that
 * let tests make an endpoint misbehave.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

/** The most a test endpoint reads of a request body (Hydra's forms and JSON are far smaller). */
export const MAX_BODY = 65_536

/** The request body, and whether it was longer than {@link MAX_BODY} (then `text` is cut short). */
export interface Body {
  readonly text: string
  readonly tooLarge: boolean
}

/**
 * Reads the body, keeping the chunks that fit under {@link MAX_BODY}, and calls `done` at its end.
 */
export function readBody(req: IncomingMessage, done: (body: Body) => void): void {
  const chunks: Buffer[] = []
  let size = 0
  req.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size <= MAX_BODY) chunks.push(chunk)
  })
  req.on('end', () => {
    done({ text: Buffer.concat(chunks).toString('utf8'), tooLarge: size > MAX_BODY })
  })
}

/** Reads an `application/x-www-form-urlencoded` body into its fields (the last one of a name wins). */
export function readForm(req: IncomingMessage, done: (form: Record<string, string>) => void): void {
  readBody(req, ({ text }) => {
    done(Object.fromEntries(new URLSearchParams(text)))
  })
}

/** Answers with a body of the given type and its length. */
export function send(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string>,
): void {
  res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers })
  res.end(body)
}

/** Answers JSON; `headers` may add to or replace the `application/json` content type. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  send(res, status, JSON.stringify(body), { 'content-type': 'application/json', ...headers })
}

/** A bare `500 internal error` in plain text, as a failing proxy or server gives. */
export function internalError(res: ServerResponse): void {
  send(res, 500, 'internal error', { 'content-type': 'text/plain' })
}

/** A scripted answer, sent verbatim: status, body and extra headers (content type JSON unless given). */
export interface ScriptedAnswer {
  readonly status: number
  readonly body: string
  readonly headers?: Record<string, string>
}

/** What a mode that is not a scripted answer does, for each fault an endpoint offers of its own. */
export type FaultAnswers<Mode extends string> = Readonly<
  Record<Exclude<Mode, 'ok' | 'hang' | 'down'>, (res: ServerResponse) => void>
>

/**
 * Plays an endpoint's current mode and returns true, or returns false in mode `ok` (the caller
 * then answers normally). Every endpoint shares three faults: `hang` never answers, `down` resets
 * the connection, and a scripted answer is sent as given; `faults` holds the endpoint's own.
 */
export function playFault<Mode extends string>(
  mode: Mode | ScriptedAnswer,
  faults: FaultAnswers<Mode>,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  if (mode === 'ok') return false
  if (typeof mode === 'object') {
    res.writeHead(mode.status, { 'content-type': 'application/json', ...mode.headers })
    res.end(mode.body)
  } else if (mode === 'down') {
    req.socket.destroy()
  } else if (mode !== 'hang') {
    faults[mode as Exclude<Mode, 'ok' | 'hang' | 'down'>](res)
  }
  return true
}

/**
 * The client id and secret of an HTTP Basic `Authorization` header (scheme case-insensitive,
 * RFC 7235 §2.1), each form-urlencoded as RFC 6749 §2.3.1 requires: undefined when the header is
 * not Basic, null when it is Basic but does not decode (a client authentication failure).
 */
export function basicCredentials(
  header: string | undefined,
): { readonly clientId: string; readonly secret: string } | null | undefined {
  if (header?.toLowerCase().startsWith('basic ') !== true) return undefined
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  if (i === -1) return null
  const unescape = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '))
  try {
    return { clientId: unescape(decoded.slice(0, i)), secret: unescape(decoded.slice(i + 1)) }
  } catch {
    return null
  }
}
