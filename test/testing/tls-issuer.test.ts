/**
 * The test issuer over TLS (issue 19, item 3; RFC 8705): discovery, JWKS and the token endpoint on
 * HTTPS with a certificate from the test CA, the mTLS alias of the token endpoint (§5), both mutual
 * TLS client authentication methods (§2.1 `tls_client_auth` by subject DN, §2.2
 * `self_signed_tls_client_auth` by registered certificate) and certificate-bound tokens (§3.1) for
 * every request that presented a certificate. Requests are made with undici Agents presenting the
 * certificates, independently of svcauth's client.
 */
import {
  createSelfSignedCertificate,
  createTestCa,
  createTestIssuer,
  type TestCa,
  type TestCertificate,
  type TestIssuer,
} from '@svcauth/testing'
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose'
import { Agent, request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

let ca: TestCa
let bss: TestCertificate
let issuer: TestIssuer
const agents: Agent[] = []

beforeAll(async () => {
  ca = await createTestCa()
  bss = await ca.issueClient({ commonName: 'bss' })
})
afterAll(async () => {
  await ca.close()
})
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()))
  await issuer.close()
})

/** An Agent trusting the test CA, presenting `client` when given. */
function agent(client?: Pick<TestCertificate, 'cert' | 'key'>, trust: string = ca.cert): Agent {
  const a = new Agent({
    connect: { ca: trust, ...(client === undefined ? {} : { cert: client.cert, key: client.key }) },
  })
  agents.push(a)
  return a
}

async function getJson(url: string, dispatcher: Agent): Promise<Record<string, unknown>> {
  const res = await request(url, { dispatcher })
  return (await res.body.json()) as Record<string, unknown>
}

/** A client-credentials request to `url` (the alias unless given), `client_id` alone in the form. */
async function tokenRequest(
  dispatcher: Agent,
  form: Record<string, string> = { client_id: 'bss' },
  url: string = issuer.mtlsTokenEndpoint ?? '',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(url, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...form }).toString(),
  })
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> }
}

describe('the test issuer over TLS', () => {
  it('serves discovery with the mTLS alias and bound tokens, and its JWKS, over HTTPS', async () => {
    issuer = await createTestIssuer({ tls: { ca }, keyCount: 1 })
    expect(issuer.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(issuer.mtlsTokenEndpoint).toBe(`${issuer.origin}/oauth2/mtls/token`)
    const meta = await getJson(`${issuer.issuer}/.well-known/openid-configuration`, agent())
    expect(meta).toMatchObject({
      issuer: issuer.issuer,
      token_endpoint: issuer.tokenEndpoint,
      mtls_endpoint_aliases: { token_endpoint: issuer.mtlsTokenEndpoint },
      tls_client_certificate_bound_access_tokens: true,
    })
    expect(meta.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth']),
    )
    const jwks = (await getJson(issuer.jwksUri, agent())) as unknown as JSONWebKeySet
    const token = await issuer.mintClientToken({ clientId: 'bss' })
    await expect(jwtVerify(token, createLocalJWKSet(jwks))).resolves.toBeDefined()
  })

  it('is refused by a client that does not trust its CA', async () => {
    issuer = await createTestIssuer({ tls: { ca }, keyCount: 1 })
    const other = await createTestCa()
    try {
      await expect(
        request(issuer.jwksUri, { dispatcher: agent(undefined, other.cert) }),
      ).rejects.toThrow()
    } finally {
      await other.close()
    }
  })

  it('keeps plain HTTP as it was: no alias, no mTLS methods, no binding', async () => {
    issuer = await createTestIssuer({ keyCount: 1 })
    expect(issuer.origin).toMatch(/^http:\/\//)
    expect(issuer.mtlsTokenEndpoint).toBeUndefined()
    const res = await request(`${issuer.issuer}/.well-known/openid-configuration`)
    const meta = (await res.body.json()) as Record<string, unknown>
    expect(meta.mtls_endpoint_aliases).toBeUndefined()
    expect(meta.tls_client_certificate_bound_access_tokens).toBeUndefined()
    expect(meta.token_endpoint_auth_methods_supported).toEqual([
      'client_secret_post',
      'client_secret_basic',
      'private_key_jwt',
      'none',
    ])
    issuer.addClient({ clientId: 'bss', secrets: ['s3cret'], authMethod: 'client_secret_post' })
    const token = await request(issuer.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=bss&client_secret=s3cret',
    })
    const body = (await token.body.json()) as { access_token: string; token_type: string }
    expect(body.token_type).toBe('bearer')
    expect(decodeJwt(body.access_token).cnf).toBeUndefined()
    expect(issuer.tokenRequests[0]).toMatchObject({ path: '/oauth2/token', certificate: undefined })
  })
})

describe('tls_client_auth (RFC 8705 §2.1)', () => {
  it('authenticates a certificate from its CA with the registered subject DN and binds the token to it', async () => {
    issuer = await createTestIssuer({ tls: { ca }, keyCount: 1 })
    issuer.addClient({
      clientId: 'bss',
      authMethod: 'tls_client_auth',
      tlsClientAuthSubjectDn: 'CN=bss',
    })
    const { status, body } = await tokenRequest(agent(bss))
    expect(status).toBe(200)
    expect(body.token_type).toBe('bearer')
    const claims = decodeJwt(body.access_token as string)
    expect(claims).toMatchObject({ sub: 'bss', client_id: 'bss', cnf: { 'x5t#S256': bss.x5tS256 } })
    expect(issuer.tokenRequests[0]).toMatchObject({
      path: '/oauth2/mtls/token',
      certificate: bss.x5tS256,
    })
    // The plain endpoint is the same server: it authenticates and binds alike.
    expect((await tokenRequest(agent(bss), undefined, issuer.tokenEndpoint)).status).toBe(200)
    expect(issuer.tokenRequests[1]?.path).toBe('/oauth2/token')
  })

  it('refuses no certificate, another subject, an untrusted or expired certificate, and a secret besides', async () => {
    issuer = await createTestIssuer({ tls: { ca }, keyCount: 1 })
    issuer.addClient({
      clientId: 'bss',
      authMethod: 'tls_client_auth',
      tlsClientAuthSubjectDn: 'CN=bss',
    })
    const other = await createTestCa()
    try {
      const cases: (Pick<TestCertificate, 'cert' | 'key'> | undefined)[] = [
        undefined,
        await ca.issueClient({ commonName: 'smd' }),
        await other.issueClient({ commonName: 'bss' }),
        await createSelfSignedCertificate({ commonName: 'bss' }),
        await ca.issueClient({ commonName: 'bss', notBefore: 7200, notAfter: -3600 }),
      ]
      for (const client of cases) {
        const { status, body } = await tokenRequest(agent(client))
        expect(status).toBe(401)
        expect(body.error).toBe('invalid_client')
      }
      const withSecret = await tokenRequest(agent(bss), { client_id: 'bss', client_secret: 'x' })
      expect(withSecret.status).toBe(401)
    } finally {
      await other.close()
    }
  })
})

describe('self_signed_tls_client_auth (RFC 8705 §2.2)', () => {
  it('authenticates a registered self-signed certificate, given as a TestCertificate or PEM', async () => {
    issuer = await createTestIssuer({ tls: { ca }, keyCount: 1 })
    const self = await createSelfSignedCertificate({ commonName: 'worker' })
    const pem = await createSelfSignedCertificate({ commonName: 'worker' })
    issuer.addClient({
      clientId: 'worker',
      authMethod: 'self_signed_tls_client_auth',
      certificates: [self, pem.cert],
    })
    for (const client of [self, pem]) {
      const { status, body } = await tokenRequest(agent(client), { client_id: 'worker' })
      expect(status).toBe(200)
      expect(decodeJwt(body.access_token as string).cnf).toEqual({ 'x5t#S256': client.x5tS256 })
    }
  })

  it('refuses an unregistered certificate, even one from its own CA, and no certificate', async () => {
    issuer = await createTestIssuer({ tls: { ca }, keyCount: 1 })
    const self = await createSelfSignedCertificate({ commonName: 'worker' })
    issuer.addClient({
      clientId: 'worker',
      authMethod: 'self_signed_tls_client_auth',
      certificates: [self],
    })
    const strangers = [await createSelfSignedCertificate({ commonName: 'worker' }), bss, undefined]
    for (const client of strangers) {
      const { status } = await tokenRequest(agent(client), { client_id: 'worker' })
      expect(status).toBe(401)
    }
  })
})

describe('certificate-bound tokens (RFC 8705 §3)', () => {
  it('binds a secret-authenticated client that presented a certificate, and not one that did not', async () => {
    issuer = await createTestIssuer({ tls: { ca }, keyCount: 1 })
    issuer.addClient({ clientId: 'bss', secrets: ['s3cret'], authMethod: 'client_secret_post' })
    const form = { client_id: 'bss', client_secret: 's3cret' }
    const bound = await tokenRequest(agent(bss), form, issuer.tokenEndpoint)
    expect(decodeJwt(bound.body.access_token as string).cnf).toEqual({ 'x5t#S256': bss.x5tS256 })
    const plain = await tokenRequest(agent(), form, issuer.tokenEndpoint)
    expect(plain.status).toBe(200)
    expect(decodeJwt(plain.body.access_token as string).cnf).toBeUndefined()
  })

  it('binds opaque tokens too: introspection answers their cnf', async () => {
    issuer = await createTestIssuer({ tls: { ca }, keyCount: 1, accessTokenFormat: 'opaque' })
    issuer.addClient({
      clientId: 'bss',
      authMethod: 'tls_client_auth',
      tlsClientAuthSubjectDn: 'CN=bss',
    })
    const { body } = await tokenRequest(agent(bss))
    const res = await request(issuer.introspectionEndpoint, {
      method: 'POST',
      dispatcher: agent(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: body.access_token as string }).toString(),
    })
    expect(await res.body.json()).toMatchObject({
      active: true,
      client_id: 'bss',
      cnf: { 'x5t#S256': bss.x5tS256 },
    })
  })
})
