/**
 * Bearer token extraction from the Authorization header (RFC 6750 §2.1), and the DPoP scheme's
 * (RFC 9449 §7.1) where DPoP is on: the same token syntax under another scheme name.
 * Query-string, form-body and cookie tokens are deliberately unsupported: they are never read, and
 * one presented beside a header token is refused as a second credential (RFC 6750 §2).
 */
import { rejecter, type Reject } from './errors.js'
import type { PeerSocket } from './mtls-request.js'

/** The parts of an incoming request that extraction looks at; any framework's request fits. */
export interface RequestLike {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>
  /** Node's raw header list, used to detect repeated Authorization headers. */
  readonly rawHeaders?: readonly string[]
  /** Request target (path and query), used only to detect `access_token` in the query. */
  readonly url?: string
  /** A parsed body, when a body parser ran before authentication. */
  readonly body?: unknown
  /** The HTTP method; read only to check a DPoP proof's `htm`. */
  readonly method?: string | undefined
  /**
   * `scheme://host[:port]` as the client addressed the service (the adapters read it the way the
   * framework's trust-proxy setting says); read only to check a DPoP proof's `htu`, with `url`'s
   * path, unless `publicOrigin` is configured.
   */
  readonly origin?: string | undefined
  /**
   * The connection (Node's socket): its peer certificate and address are read only where mutual TLS
   * is on and the token is certificate-bound.
   */
  readonly socket?: PeerSocket | undefined
}

/** The credentials of a request: the scheme they came under and the token. */
export interface Credentials {
  readonly scheme: 'bearer' | 'dpop'
  readonly token: string
}

/** `credentials = "Bearer" 1*SP b64token` with `b64token = 1*(ALPHA / DIGIT / "-._~+/") *"="`. */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i
/** RFC 9449 §7.1: `DPoP` 1*SP token68, the same characters. */
const DPOP = /^dpop +([A-Za-z0-9\-._~+/]+=*)$/i
const SCHEME = /^([^\s]+)(?:\s|$)/

/**
 * Returns the bearer token, or `undefined` when no bearer credentials were presented (no header,
 * or another scheme such as Basic). Throws `AuthError` for a malformed or repeated header
 * (400 `invalid_request`) and for a token over `maxTokenBytes` (401 `invalid_token`).
 *
 * @example
 * ```ts
 * const token = extractBearer(req, { maxTokenBytes: 8192 })
 * ```
 */
export function extractBearer(
  req: RequestLike,
  options: { maxTokenBytes: number; realm?: string },
): string | undefined {
  return readBearer(req, options.maxTokenBytes, rejecter(options.realm))
}

/** {@link extractBearer} for the verifier, whose errors are already bound to its realm. */
export function readBearer(
  req: RequestLike,
  maxTokenBytes: number,
  reject: Reject,
): string | undefined {
  const value = singleAuthorization(req, reject)
  // A query or body token alone is not read: the request simply has no credentials.
  if (value === undefined) return undefined
  const scheme = SCHEME.exec(value)?.[1]
  if (scheme === undefined) throw reject('malformed_header')
  if (scheme.toLowerCase() !== 'bearer') return undefined
  return tokenOf(req, value, BEARER, maxTokenBytes, reject)
}

/**
 * The token of an Authorization `value` whose scheme `syntax` matches, once the size cap (applied
 * before any parsing: the scheme, spaces and the token) and the single-credential rule pass.
 */
function tokenOf(
  req: RequestLike,
  value: string,
  syntax: RegExp,
  maxTokenBytes: number,
  reject: Reject,
): string {
  if (value.length > maxTokenBytes + 16) throw reject('token_too_large')
  const token = syntax.exec(value)?.[1]
  if (token === undefined) throw reject('malformed_header')
  if (Buffer.byteLength(token) > maxTokenBytes) throw reject('token_too_large')
  if (queryToken(req.url) || bodyToken(req.body)) throw reject('multiple_methods')
  return token
}

/**
 * {@link readBearer} where DPoP is on: the Bearer or the DPoP scheme's token, with the scheme.
 */
export function readCredentials(
  req: RequestLike,
  maxTokenBytes: number,
  reject: Reject,
): Credentials | undefined {
  const value = singleAuthorization(req, reject)
  if (value === undefined) return undefined
  const scheme = SCHEME.exec(value)?.[1]?.toLowerCase()
  if (scheme === undefined) throw reject('malformed_header')
  if (scheme !== 'bearer' && scheme !== 'dpop') return undefined
  const token = tokenOf(req, value, scheme === 'bearer' ? BEARER : DPOP, maxTokenBytes, reject)
  return { scheme, token }
}

/** What {@link dpopHeader} answers for a request with more than one `DPoP` field. */
export const REPEATED: unique symbol = Symbol('repeated DPoP header')

/**
 * The request's `DPoP` header fields: none, the one value, or {@link REPEATED} when there are several
 * (RFC 9449 §4.3 step 1: exactly one). Node joins repeated unknown fields with commas, so the raw
 * list is what counts.
 */
export function dpopHeader(req: RequestLike): string | typeof REPEATED | undefined {
  const raw = req.rawHeaders
  if (raw !== undefined) {
    let seen = 0
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]
      if (name !== undefined && name.length === 4 && name.toLowerCase() === 'dpop') seen++
    }
    if (seen > 1) return REPEATED
  }
  const value = req.headers.dpop
  if (value === undefined) return undefined
  if (typeof value !== 'string') return value.length === 1 ? value[0] : REPEATED
  return value
}

/**
 * For a request whose `Authorization` value is one already parsed and verified (the cache's
 * recent headers): true when nothing else about the request makes {@link readBearer} refuse it,
 * i.e. that header is the only one and no token rides in the query or body.
 */
export function onlyAuthorization(req: RequestLike): boolean {
  const raw = req.rawHeaders
  if (raw !== undefined && authorizationCount(raw) > 1) return false
  return !queryToken(req.url) && !bodyToken(req.body)
}

/** How many `Authorization` fields the raw header list has (Node keeps only the first). */
function authorizationCount(raw: readonly string[]): number {
  let seen = 0
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]
    if (name !== undefined && name.length === 13 && name.toLowerCase() === 'authorization') seen++
  }
  return seen
}

function singleAuthorization(req: RequestLike, reject: Reject): string | undefined {
  const raw = req.rawHeaders
  if (raw !== undefined && authorizationCount(raw) > 1) throw reject('multiple_methods')
  const header = req.headers.authorization
  if (header === undefined) return undefined
  if (typeof header !== 'string') {
    if (header.length > 1) throw reject('multiple_methods')
    return header[0]
  }
  return header
}

function queryToken(url: string | undefined): boolean {
  if (url === undefined) return false
  const q = url.indexOf('?')
  if (q === -1) return false
  // Parsed only when the name could be there, spelled plainly or percent-encoded.
  if (!url.includes('access_token', q) && !url.includes('%', q)) return false
  return new URLSearchParams(url.slice(q + 1)).has('access_token')
}

function bodyToken(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    Object.prototype.hasOwnProperty.call(body, 'access_token')
  )
}
