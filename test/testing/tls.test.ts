/**
 * The test kit's certificate authority (issue 19, item 3): real certificates from the system
 * openssl that a real mutual-TLS server on loopback accepts or refuses, and the `x5t#S256`
 * thumbprint certificate-bound tokens carry (RFC 8705 §3.1).
 */
import { X509Certificate } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { TLSSocket } from 'node:tls'
import {
  certificateThumbprint,
  createSelfSignedCertificate,
  createTestCa,
  createTestIssuer,
  type TestCa,
  type TestCertificate,
} from '@svcauth/testing'
import { decodeJwt } from 'jose'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let ca: TestCa
let server: Server
let origin: string

beforeAll(async () => {
  ca = await createTestCa()
  const cert = await ca.issueServer()
  server = createServer(
    { cert: cert.cert, key: cert.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const socket = req.socket
      const peer = socket instanceof TLSSocket ? socket.getPeerCertificate() : undefined
      res.end(peer === undefined ? '' : certificateThumbprint(peer.raw))
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await ca.close()
})

async function call(client?: TestCertificate): Promise<string> {
  const agent = new Agent({
    connect: {
      ca: ca.cert,
      ...(client === undefined ? {} : { cert: client.cert, key: client.key }),
    },
  })
  try {
    const res = await request(origin, { dispatcher: agent })
    return await res.body.text()
  } finally {
    await agent.close()
  }
}

describe('createTestCa', () => {
  it('issues a server certificate for loopback and client certificates a mutual-TLS server accepts', async () => {
    const client = await ca.issueClient({ commonName: 'bss' })
    expect(new X509Certificate(client.cert).subject).toBe('CN=bss')
    expect(new X509Certificate(client.cert).checkIssued(new X509Certificate(ca.cert))).toBe(true)
    // The server sees the same certificate: its thumbprint is the client's x5t#S256.
    expect(await call(client)).toBe(client.x5tS256)
  })

  it('an expired, a not-yet-valid, a self-signed client certificate and none at all are refused by TLS', async () => {
    const expired = await ca.issueClient({ notBefore: 7200, notAfter: -3600 })
    const early = await ca.issueClient({ notBefore: -3600, notAfter: 7200 })
    const self = await createSelfSignedCertificate({ commonName: 'bss' })
    for (const client of [expired, early, self, undefined]) {
      await expect(call(client)).rejects.toThrow()
    }
  })

  it('x5t#S256 is base64url SHA-256 of the DER, from PEM or DER alike', async () => {
    const client = await ca.issueClient()
    const hex = new X509Certificate(client.cert).fingerprint256.replaceAll(':', '').toLowerCase()
    expect(Buffer.from(client.x5tS256, 'base64url').toString('hex')).toBe(hex)
    expect(certificateThumbprint(client.der)).toBe(client.x5tS256)
    expect(certificateThumbprint(client.cert)).toBe(client.x5tS256)
  })

  it('the mtls mint option binds a JWT (cnf["x5t#S256"]) and an opaque token to a certificate', async () => {
    const issuer = await createTestIssuer()
    try {
      const client = await ca.issueClient()
      const token = await issuer.mintClientToken({ clientId: 'bss', mtls: client })
      expect(decodeJwt(token).cnf).toEqual({ 'x5t#S256': client.x5tS256 })
      const opaque = issuer.mintOpaqueToken({ clientId: 'bss', mtls: client })
      const res = await request(issuer.introspectionEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: opaque }).toString(),
      })
      expect(await res.body.json()).toMatchObject({
        active: true,
        token_type: 'Bearer',
        cnf: { 'x5t#S256': client.x5tS256 },
      })
    } finally {
      await issuer.close()
    }
  })
})
