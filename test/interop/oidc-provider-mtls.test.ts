/**
 * Mutual-TLS interop (RFC 8705, issue 19) with a real authorization server we did not write:
 * oidc-provider over HTTPS with its mTLS features on authenticates clients by their certificate
 * (`tls_client_auth` by subject DN, `self_signed_tls_client_auth` by a registered certificate) and
 * binds their tokens to it (`cnf["x5t#S256"]`, JWT and opaque); both adapters, over HTTPS asking
 * for client certificates, accept a token only from a connection presenting that certificate. The
 * svcauth client gets such tokens with its certificate (both methods, discovery over HTTPS) and
 * calls both adapters over mutual TLS.
 */
import { X509Certificate } from 'node:crypto'
import { createServiceClient, type ServiceClient } from '@svcauth/client'
import type { Principal } from '@svcauth/core'
import type * as ex from '@svcauth/express'
import {
  createSelfSignedCertificate,
  createTestCa,
  type TestCa,
  type TestCertificate,
} from '@svcauth/testing'
import { decodeJwt, type JWK } from 'jose'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  generateSigningKey,
  startProvider,
  type ProviderClient,
  type RunningProvider,
} from '@svcauth/example-demo'
import { startSmd as startService, type Closers } from './smd-service.js'

const RS_SECRET = 'smd-resource-server-secret-0123456789'
const closers: Closers = []
let ca: TestCa
let provider: RunningProvider
let bss: TestCertificate
let other: TestCertificate
let self: TestCertificate
/** Trusts the test CA, for svcauth's own HTTPS calls (discovery, JWKS, introspection). */
let trusting: Agent

beforeAll(async () => {
  ca = await createTestCa()
  ;[bss, other, self] = await Promise.all([
    ca.issueClient({ commonName: 'bss' }),
    ca.issueClient({ commonName: 'intruder' }),
    createSelfSignedCertificate({ commonName: 'bss-self' }),
  ])
  const clients: ProviderClient[] = [
    {
      clientId: 'bss-tls',
      authMethod: 'tls_client_auth',
      tlsClientAuthSubjectDn: 'CN=bss',
      certificateBound: true,
    },
    {
      clientId: 'bss-self',
      authMethod: 'self_signed_tls_client_auth',
      jwks: { keys: [{ ...jwkOf(self), x5c: [self.der.toString('base64')] }] },
      certificateBound: true,
    },
    { clientId: 'smd', clientSecret: RS_SECRET, authMethod: 'client_secret_basic' },
  ]
  const server = await ca.issueServer()
  provider = await startProvider({
    clients,
    resources: {
      'urn:smd': { audience: 'smd', scope: 'smd.read', format: 'jwt' },
      'urn:smd:opaque': { audience: 'smd', scope: 'smd.read', format: 'opaque' },
    },
    keys: [await generateSigningKey()],
    tls: { cert: server.cert, key: server.key, ca: ca.cert },
  })
  trusting = new Agent({ connect: { ca: ca.cert } })
})
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close()
  await provider.close()
  await trusting.close()
  await ca.close()
})

function jwkOf(cert: TestCertificate): JWK {
  return new X509Certificate(cert.cert).publicKey.export({ format: 'jwk' })
}

function summary(p: Principal | undefined) {
  return { clientId: p?.clientId ?? null, x5tS256: p?.confirmation?.x5tS256 ?? null }
}

/** A client-credentials token from oidc-provider, over a connection presenting `cert`. */
async function tokenFor(clientId: string, cert: TestCertificate, resource: string) {
  const agent = new Agent({ connect: { ca: ca.cert, cert: cert.cert, key: cert.key } })
  try {
    const res = await request(provider.tokenEndpoint, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        scope: 'smd.read',
        resource,
      }).toString(),
    })
    const body = (await res.body.json()) as { access_token?: string; token_type?: string }
    if (res.statusCode !== 200 || body.access_token === undefined) {
      throw new Error(`token request failed: ${res.statusCode} ${JSON.stringify(body)}`)
    }
    return body.access_token
  } finally {
    await agent.close()
  }
}

/** GET the SMD route over a connection presenting `cert` (or none). */
async function call(smd: string, token: string, cert?: TestCertificate) {
  const agent = new Agent({
    connect: { ca: ca.cert, ...(cert === undefined ? {} : { cert: cert.cert, key: cert.key }) },
  })
  try {
    const res = await request(`${smd}/hsm/v2/State/Components`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${token}` },
    })
    return { status: res.statusCode, body: await res.body.json() }
  } finally {
    await agent.close()
  }
}

async function startSmd(framework: 'Express' | 'Koa', extra: Partial<ex.AuthenticateOptions> = {}) {
  const server = await ca.issueServer()
  return startService(
    framework,
    { issuer: provider.issuer, audience: 'smd', mtls: true, dispatcher: trusting, ...extra },
    summary,
    closers,
    { cert: server.cert, key: server.key, ca: ca.cert },
  )
}

describe.each(['Express', 'Koa'] as const)('oidc-provider mTLS → %s', (framework) => {
  it('tls_client_auth: a token bound to the client certificate works with it, and only with it', async () => {
    const smd = await startSmd(framework)
    const token = await tokenFor('bss-tls', bss, 'urn:smd')
    expect(decodeJwt(token).cnf).toEqual({ 'x5t#S256': bss.x5tS256 })
    expect(await call(smd, token, bss)).toEqual({
      status: 200,
      body: { clientId: 'bss-tls', x5tS256: bss.x5tS256 },
    })
    expect((await call(smd, token, other)).status).toBe(401)
    expect((await call(smd, token)).status).toBe(401)
  })

  it('self_signed_tls_client_auth: the registered self-signed certificate authenticates and binds', async () => {
    const smd = await startSmd(framework)
    const token = await tokenFor('bss-self', self, 'urn:smd')
    expect(decodeJwt(token).cnf).toEqual({ 'x5t#S256': self.x5tS256 })
    expect((await call(smd, token, self)).status).toBe(200)
    expect((await call(smd, token, bss)).status).toBe(401)
  })

  it('a certificate-bound opaque token: introspection carries cnf["x5t#S256"]', async () => {
    const smd = await startSmd(framework, {
      introspection: { clientId: 'smd', clientSecret: RS_SECRET },
    })
    const token = await tokenFor('bss-tls', bss, 'urn:smd:opaque')
    expect(token.split('.')).toHaveLength(1)
    expect(await call(smd, token, bss)).toEqual({
      status: 200,
      body: { clientId: 'bss-tls', x5tS256: bss.x5tS256 },
    })
    expect((await call(smd, token, other)).status).toBe(401)
  })

  it.each([
    ['tls_client_auth', 'bss-tls', () => bss],
    ['self_signed_tls_client_auth', 'bss-self', () => self],
  ] as const)(
    'the svcauth client (%s) gets a bound token with its certificate and calls over mutual TLS',
    async (authMethod, clientId, cert) => {
      const smd = await startSmd(framework)
      const svc: ServiceClient = createServiceClient({
        issuer: provider.issuer,
        clientId,
        authMethod,
        tls: { cert: cert().cert, key: cert().key, ca: ca.cert },
        targets: { [smd]: { scope: ['smd.read'], resource: 'urn:smd' } },
      })
      closers.push(() => svc.close())
      const res = await svc.fetch(`${smd}/hsm/v2/State/Components`)
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 200,
        body: { clientId, x5tS256: cert().x5tS256 },
      })
      const token = await svc.getToken(smd)
      expect(decodeJwt(token).cnf).toEqual({ 'x5t#S256': cert().x5tS256 })
      // Stolen, the token is useless over another certificate.
      expect((await call(smd, token, other)).status).toBe(401)
    },
  )

  it('the wrong certificate cannot get a token for tls_client_auth', async () => {
    await expect(tokenFor('bss-tls', other, 'urn:smd')).rejects.toThrow(/"error":"invalid_client"/)
  })
})
