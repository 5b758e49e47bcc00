/**
 * Certificate-bound access tokens on a request (RFC 8705 §3): a token whose `cnf["x5t#S256"]` is
 * set is accepted only when the client certificate of the request hashes (SHA-256 of its DER) to
 * it. The certificate is the TLS socket's peer certificate (the handshake proved the client holds
 * its key; trusting its issuer is the TLS server's `ca`/`rejectUnauthorized` decision), or, when
 * `mtls.header` is configured and the request comes from one of `trustedProxies`, the one that
 * proxy forwards in that header (the socket's certificate is then the proxy's own). A header from
 * any other address is ignored and logged once: the socket decides. A certificate outside its
 * validity period is refused either way.
 *
 * A socket's certificate is read and hashed once per connection (a WeakMap keyed by the socket);
 * header values once per distinct value (a small bounded map).
 */
import { createHash, X509Certificate } from 'node:crypto'
import type { RequestLike } from './bearer.js'
import type { Reject } from './errors.js'
import type { Logger } from './logger.js'
import type { ResolvedMtlsOptions } from './mtls-options.js'
import type { Principal } from './principal.js'

/** What svcauth reads of a request's connection: Node's `net.Socket` / `tls.TLSSocket` fit. */
export interface PeerSocket {
  readonly remoteAddress?: string | undefined
  getPeerCertificate?(detailed?: boolean): { readonly raw?: Buffer } | object | null
}

/** A presented client certificate: its thumbprint and validity, or why it cannot be used. */
interface Presented {
  readonly x5tS256: string
  /** Epoch ms; undefined when only a hash was forwarded (the proxy checked validity). */
  readonly notBefore: number | undefined
  readonly notAfter: number | undefined
}

const NONE = Object.freeze({ none: true as const })
const fromSocket = new WeakMap<object, Presented | typeof NONE>()
const fromHeader = new Map<string, Presented | 'invalid'>()
const HEADER_MEMO = 256

/** Per authenticator: whether an untrusted header has been logged yet. */
export interface MtlsState {
  warnedUntrusted: boolean
}

/**
 * Checks the request's certificate against `principal`'s binding (and that there is a binding,
 * when `required`); returns, or throws the AuthError to answer.
 */
export function checkMtlsRequest(
  req: RequestLike & { readonly socket?: PeerSocket | undefined },
  principal: Principal,
  mtls: ResolvedMtlsOptions,
  state: MtlsState,
  logger: Logger,
  reject: Reject,
): void {
  const bound = principal.confirmation?.x5tS256
  if (bound === undefined) {
    // A DPoP-bound token satisfies `required` too: it is sender-constrained, by its own method.
    if (mtls.required && principal.confirmation?.jkt === undefined) throw reject('mtls_required')
    return
  }
  const presented = clientCertificate(req, mtls, state, logger, reject)
  if (presented === undefined) throw reject('mtls_certificate_missing')
  const now = Date.now()
  if (
    (presented.notBefore !== undefined && presented.notBefore > now) ||
    (presented.notAfter !== undefined && presented.notAfter < now)
  ) {
    throw reject('mtls_certificate_invalid')
  }
  if (presented.x5tS256 !== bound) throw reject('mtls_certificate_mismatch')
}

function clientCertificate(
  req: RequestLike & { readonly socket?: PeerSocket | undefined },
  mtls: ResolvedMtlsOptions,
  state: MtlsState,
  logger: Logger,
  reject: Reject,
): Presented | undefined {
  const { socket } = req
  const { header } = mtls
  if (header !== undefined) {
    const address = normalAddress(socket?.remoteAddress)
    const trusted =
      address !== undefined &&
      header.trusted.check(address, address.includes(':') ? 'ipv6' : 'ipv4')
    const value = req.headers[header.name]
    if (trusted) {
      // From the proxy: its header is the client's certificate; its socket certificate is its own.
      if (value === undefined) return undefined
      if (typeof value !== 'string') throw reject('mtls_header_invalid')
      const presented = parseHeader(value, header.format)
      if (presented === 'invalid') throw reject('mtls_header_invalid')
      return presented
    }
    if (value !== undefined && !state.warnedUntrusted) {
      state.warnedUntrusted = true
      logger.warn(
        { event: 'mtls_untrusted_header', header: header.name, remote_address: address ?? null },
        'svcauth: a client certificate header came from an address not in mtls.trustedProxies; it is ignored (logged once)',
      )
    }
  }
  return socket === undefined ? undefined : socketCertificate(socket)
}

function socketCertificate(socket: PeerSocket): Presented | undefined {
  const known = fromSocket.get(socket)
  if (known !== undefined) return 'none' in known ? undefined : known
  const peer = socket.getPeerCertificate?.(false)
  const raw = peer !== null && peer !== undefined && 'raw' in peer ? peer.raw : undefined
  const presented = raw instanceof Buffer && raw.length > 0 ? fromDer(raw) : undefined
  fromSocket.set(socket, presented ?? NONE)
  return presented
}

function parseHeader(value: string, format: string): Presented | 'invalid' {
  const key = `${format}\n${value}`
  let presented = fromHeader.get(key)
  if (presented === undefined) {
    presented = parseValue(value, format)
    if (fromHeader.size >= HEADER_MEMO) fromHeader.clear()
    fromHeader.set(key, presented)
  }
  return presented
}

function parseValue(value: string, format: string): Presented | 'invalid' {
  try {
    if (format === 'pem-urlencoded') return fromPem(decodeURIComponent(value))
    if (format === 'der-base64') return fromBase64(value)
    return fromXfcc(value)
  } catch {
    return 'invalid'
  }
}

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/

function fromPem(text: string): Presented | 'invalid' {
  const pem = PEM.exec(text)?.[0]
  return pem === undefined ? 'invalid' : fromDer(new X509Certificate(pem).raw)
}

function fromBase64(value: string): Presented | 'invalid' {
  const text = value.includes('%') ? decodeURIComponent(value) : value
  const body = text.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '')
  if (body === '' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(body)) return 'invalid'
  return fromDer(
    Buffer.from(body, body.includes('-') || body.includes('_') ? 'base64url' : 'base64'),
  )
}

/**
 * Envoy's `x-forwarded-client-cert`: comma-separated elements (one per proxy hop, the nearest
 * last), each `Key=value` pairs separated by `;`, values optionally quoted. `Cert` is the
 * URL-encoded PEM, `Hash` the hex SHA-256 of the DER; when both are given they must agree.
 */
function fromXfcc(value: string): Presented | 'invalid' {
  const elements = splitOutsideQuotes(value, ',')
  const last = elements[elements.length - 1]
  if (last === undefined) return 'invalid'
  let cert: string | undefined
  let hash: string | undefined
  for (const pair of splitOutsideQuotes(last, ';')) {
    const eq = pair.indexOf('=')
    if (eq === -1) return 'invalid'
    const name = pair.slice(0, eq).trim().toLowerCase()
    let field = pair.slice(eq + 1).trim()
    if (field.startsWith('"') && field.endsWith('"') && field.length >= 2)
      field = field.slice(1, -1)
    if (name === 'cert') cert = field
    else if (name === 'hash') hash = field
  }
  if (hash !== undefined && !/^[0-9a-fA-F]{64}$/.test(hash)) return 'invalid'
  const fromHash = hash === undefined ? undefined : Buffer.from(hash, 'hex').toString('base64url')
  if (cert === undefined) {
    return fromHash === undefined
      ? 'invalid'
      : Object.freeze({ x5tS256: fromHash, notBefore: undefined, notAfter: undefined })
  }
  const presented = fromPem(decodeURIComponent(cert))
  if (presented === 'invalid') return presented
  return fromHash !== undefined && fromHash !== presented.x5tS256 ? 'invalid' : presented
}

function splitOutsideQuotes(value: string, separator: string): string[] {
  const out: string[] = []
  let quoted = false
  let start = 0
  for (let i = 0; i < value.length; i++) {
    const c = value[i]
    if (c === '\\' && quoted) i++
    else if (c === '"') quoted = !quoted
    else if (c === separator && !quoted) {
      out.push(value.slice(start, i))
      start = i + 1
    }
  }
  if (quoted) throw new Error('unbalanced quotes')
  out.push(value.slice(start))
  return out.map((s) => s.trim()).filter((s) => s !== '')
}

function fromDer(der: Buffer): Presented {
  const cert = new X509Certificate(der)
  return Object.freeze({
    x5tS256: createHash('sha256').update(cert.raw).digest('base64url'),
    notBefore: Date.parse(cert.validFrom),
    notAfter: Date.parse(cert.validTo),
  })
}

/** `::ffff:10.0.0.1` is the IPv4 address 10.0.0.1 (a dual-stack socket's view of it). */
function normalAddress(address: string | undefined): string | undefined {
  if (address === undefined) return undefined
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}
