/**
 * The client certificate a request presented on the test issuer's TLS connection, and the two
 * mutual-TLS client authentication methods of RFC 8705 §2 that the token endpoint accepts with it:
 * - `tls_client_auth` (§2.1): the certificate chains to the issuer's CA (the TLS layer checked it,
 *   validity dates included) and its subject DN equals the client's registered
 *   `tls_client_auth_subject_dn` (§2.1.2), written as RFC 4514 does (most specific RDN first,
 *   comma-separated: `CN=bss,O=HPC`);
 * - `self_signed_tls_client_auth` (§2.2): the certificate is one the client registered (compared
 *   by its `x5t#S256`, §3.1), whoever signed it, and is within its validity dates.
 * The issuer asks for a certificate and does not require one, so a request without one reaches the
 * endpoint and is refused there as `invalid_client`, as an authorization server would.
 */
import { createHash, X509Certificate } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { TLSSocket } from 'node:tls'

/** What the token endpoint knows of the certificate a request presented. */
export interface PresentedCertificate {
  /** RFC 8705 §3.1: base64url SHA-256 of its DER. */
  readonly x5tS256: string
  /** The TLS layer verified it against the issuer's CA (chain and dates). */
  readonly authorized: boolean
  /** Its subject DN in RFC 4514 order. */
  readonly subjectDn: string
  /** Now is between its notBefore and notAfter. */
  readonly current: boolean
}

/** A registered certificate: PEM, or anything that carries its thumbprint (a TestCertificate). */
export type RegisteredCertificate = string | { readonly x5tS256: string }

/** The certificate the request's connection presented; undefined on plain HTTP or without one. */
export function presentedCertificate(req: IncomingMessage): PresentedCertificate | undefined {
  const socket = req.socket
  if (!(socket instanceof TLSSocket)) return undefined
  const peer = socket.getPeerCertificate()
  // Without a client certificate, Node answers an empty object (no `raw`).
  if (!('raw' in peer) || !Buffer.isBuffer(peer.raw)) return undefined
  const cert = new X509Certificate(peer.raw)
  const now = Date.now()
  return {
    x5tS256: createHash('sha256').update(peer.raw).digest('base64url'),
    authorized: socket.authorized,
    subjectDn: rfc4514(cert.subject),
    current: Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo),
  }
}

/**
 * Node prints a subject one RDN per line, in certificate order (least specific first); RFC 4514
 * writes them most specific first, separated by commas.
 */
export function rfc4514(subject: string): string {
  return subject.split('\n').filter(Boolean).reverse().join(',')
}

/** The `x5t#S256` of a registered certificate. */
function thumbprintOf(registered: RegisteredCertificate): string {
  if (typeof registered !== 'string') return registered.x5tS256
  return createHash('sha256').update(new X509Certificate(registered).raw).digest('base64url')
}

/** RFC 8705 §2.1: a certificate from the issuer's CA with the registered subject DN. */
export function tlsClientAuthenticates(
  presented: PresentedCertificate | undefined,
  subjectDn: string | undefined,
): boolean {
  return (
    presented?.authorized === true && subjectDn !== undefined && presented.subjectDn === subjectDn
  )
}

/** RFC 8705 §2.2: one of the registered certificates, within its dates. */
export function selfSignedAuthenticates(
  presented: PresentedCertificate | undefined,
  registered: readonly RegisteredCertificate[] | undefined,
): boolean {
  if (presented?.current !== true) return false
  return (registered ?? []).some((r) => thumbprintOf(r) === presented.x5tS256)
}
