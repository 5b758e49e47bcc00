/**
 * Mutual TLS in the core authenticator (RFC 8705 §3, issue 19): the options, the `cnf` rules, the
 * header formats a TLS-terminating proxy uses, the trusted-proxy rule and its one-time log line.
 * The conformance table (`test/conformance/mtls.test.ts`) runs the same over real TLS connections.
 */
import {
  createAuthenticator,
  isAuthError,
  type Authenticator,
  type RequestLike,
} from '@svcauth/core'
import {
  createTestCa,
  createTestIssuer,
  type TestCa,
  type TestCertificate,
  type TestIssuer,
} from '@svcauth/testing'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { captureLogs } from '../support/log-capture.js'

let issuer: TestIssuer
let ca: TestCa
let cert: TestCertificate
const open: Authenticator[] = []

beforeAll(async () => {
  ;[issuer, ca] = await Promise.all([createTestIssuer(), createTestCa()])
  cert = await ca.issueClient({ commonName: 'bss' })
})
afterAll(async () => {
  for (const a of open) a.close()
  await Promise.all([issuer.close(), ca.close()])
})

function authenticator(extra: Record<string, unknown> = {}): Authenticator {
  const auth = createAuthenticator({
    issuer: issuer.issuer,
    audience: 'smd',
    jwksUri: issuer.jwksUri,
    mtls: true,
    ...extra,
  })
  open.push(auth)
  return auth
}

const boundToken = (to: TestCertificate = cert) =>
  issuer.mintClientToken({ clientId: 'bss', audience: ['smd'], mtls: to })

/** A request from `address` whose TLS connection presents `socketCert` (or none). */
function request(
  token: string,
  options: {
    address?: string
    socketCert?: TestCertificate
    headers?: Record<string, string>
  } = {},
): RequestLike {
  return {
    headers: { authorization: `Bearer ${token}`, ...options.headers },
    socket: {
      remoteAddress: options.address ?? '127.0.0.1',
      getPeerCertificate: () =>
        options.socketCert === undefined ? {} : { raw: options.socketCert.der },
    },
  }
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  return isAuthError(err) ? err.reason : `not an AuthError: ${String(err)}`
}

describe('options', () => {
  it.each([
    ['mtls a string', { mtls: 'socket' }, /mtls must be/],
    ['mtls.required not boolean', { mtls: { required: 1 } }, /mtls.required/],
    ['a header without trusted proxies', { mtls: { header: 'x-client-cert' } }, /trustedProxies/],
    ['an empty proxy list', { mtls: { header: 'x-cert', trustedProxies: [] } }, /trustedProxies/],
    [
      'a proxy that is a host name',
      { mtls: { header: 'x-cert', trustedProxies: ['proxy'] } },
      /proxy/,
    ],
    ['a bad prefix', { mtls: { header: 'x-cert', trustedProxies: ['10.0.0.0/33'] } }, /prefix/],
    [
      'an unknown format',
      { mtls: { header: 'x-cert', format: 'der', trustedProxies: ['::1'] } },
      /format/,
    ],
    [
      'a header name with a space',
      { mtls: { header: 'x cert', trustedProxies: ['::1'] } },
      /header/,
    ],
    ['trustedProxies without a header', { mtls: { trustedProxies: ['::1'] } }, /only with/],
  ])('%s is a TypeError at construction', (_name, extra, message) => {
    expect(() => authenticator(extra)).toThrow(TypeError)
    expect(() => authenticator(extra)).toThrow(message)
  })
})

describe('the confirmation claim', () => {
  it('a certificate-bound token’s Principal carries the thumbprint', async () => {
    const principal = await authenticator().authenticate(
      request(await boundToken(), { socketCert: cert }),
    )
    expect(principal?.confirmation).toEqual({ x5tS256: cert.x5tS256 })
  })

  it('an mTLS-bound token is refused where only DPoP is on, and a DPoP-bound one where only mTLS is', async () => {
    const dpopOnly = authenticator({ mtls: false, dpop: true })
    expect(await reasonOf(dpopOnly.verify(await boundToken()))).toBe('sender_constrained')
    const jkt = 'A'.repeat(43)
    const dpopBound = await issuer.mintClientToken({
      clientId: 'bss',
      audience: ['smd'],
      dpop: { jkt },
    })
    expect(await reasonOf(authenticator().verify(dpopBound))).toBe('sender_constrained')
  })

  it('a token bound twice (jkt and x5t#S256) is refused even with both on', async () => {
    const both = await issuer.mintClientToken({
      clientId: 'bss',
      audience: ['smd'],
      claims: { cnf: { jkt: 'A'.repeat(43), 'x5t#S256': cert.x5tS256 } },
    })
    expect(await reasonOf(authenticator({ dpop: true }).verify(both))).toBe('sender_constrained')
  })
})

describe('proxy headers', () => {
  const proxied = (format: string) =>
    authenticator({ mtls: { header: 'x-client-cert', format, trustedProxies: ['10.0.0.0/8'] } })

  it('base64 DER (with or without PEM armour, base64url too) is read', async () => {
    const token = await boundToken()
    const b64 = cert.der.toString('base64')
    for (const value of [b64, cert.der.toString('base64url'), cert.cert.replaceAll('\n', ' ')]) {
      const req = request(token, { address: '10.1.2.3', headers: { 'x-client-cert': value } })
      await expect(proxied('der-base64').authenticate(req)).resolves.toBeDefined()
    }
  })

  it('an IPv4-mapped IPv6 proxy address is judged as its IPv4 address', async () => {
    const req = request(await boundToken(), {
      address: '::ffff:10.9.8.7',
      headers: { 'x-client-cert': encodeURIComponent(cert.cert) },
    })
    await expect(proxied('pem-urlencoded').authenticate(req)).resolves.toBeDefined()
  })

  it('an Envoy element with only a Hash is enough (the proxy checked the certificate)', async () => {
    const hex = Buffer.from(cert.x5tS256, 'base64url').toString('hex')
    const req = request(await boundToken(), {
      address: '10.0.0.1',
      headers: { 'x-client-cert': `By=spiffe://smd;Hash=${hex};Subject="CN=bss,O=a;b"` },
    })
    await expect(proxied('xfcc').authenticate(req)).resolves.toBeDefined()
  })

  it.each([
    ['pem-urlencoded', 'not-a-certificate'],
    ['pem-urlencoded', '%E0%A4%A'],
    ['der-base64', 'AAAA'],
    ['der-base64', '!!!'],
    ['xfcc', 'Hash=xyz'],
    ['xfcc', 'Cert="unterminated'],
    ['xfcc', 'By=spiffe://x'],
  ])('%s %s from a trusted proxy is a 400', async (format, value) => {
    const req = request(await boundToken(), {
      address: '10.0.0.1',
      headers: { 'x-client-cert': value },
    })
    expect(await reasonOf(proxied(format).authenticate(req))).toBe('mtls_header_invalid')
  })

  it('a header from an untrusted address is logged once, without its value', async () => {
    const logs = captureLogs()
    const auth = authenticator({
      logger: pino({}, logs.stream),
      mtls: { header: 'x-client-cert', trustedProxies: ['10.0.0.0/8'] },
    })
    const token = await boundToken()
    for (let i = 0; i < 3; i++) {
      const req = request(token, {
        address: '192.0.2.7',
        socketCert: cert,
        headers: { 'x-client-cert': encodeURIComponent(cert.cert) },
      })
      await expect(auth.authenticate(req)).resolves.toBeDefined()
    }
    const lines = logs.lines.filter((l) => l.event === 'mtls_untrusted_header')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ header: 'x-client-cert', remote_address: '192.0.2.7' })
    expect(logs.raw.join('')).not.toContain('BEGIN')
    expect(logs.raw.join('')).not.toContain(token)
  })
})
