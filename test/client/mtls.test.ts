/**
 * The outbound half of mutual TLS (issue 19, item 2; RFC 8705): the client authenticates with its
 * certificate (`tls_client_auth`, `self_signed_tls_client_auth`, §2) or presents it beside a
 * secret, sends token requests to the discovered mTLS alias (§5), and sends a certificate-bound
 * token (§3) only over connections presenting that certificate: a target configured with another
 * certificate, or none, gets a CertificateBindingError before anything is sent. Real HTTPS servers
 * on loopback: the test issuer over TLS and targets that check the binding themselves.
 */
import {
  createServiceClient,
  isCertificateBindingError,
  isTokenEndpointError,
  type CertificateBindingError,
  type ServiceClient,
  type ServiceClientOptions,
} from '@svcauth/client'
import { createAuthenticator } from '@svcauth/core'
import { createSelfSignedCertificate, createTestIssuer } from '@svcauth/testing'
import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { startDownstream } from './downstream.js'
import { useMtlsWorld } from './mtls-target.js'

const world = useMtlsWorld()

function client(options: Partial<ServiceClientOptions> & Pick<ServiceClientOptions, 'targets'>) {
  const svc: ServiceClient = createServiceClient({
    issuer: world.issuer.issuer,
    clientId: 'bss',
    authMethod: 'tls_client_auth',
    tls: {
      certFile: world.files.certFile,
      keyFile: world.files.keyFile,
      caFile: world.files.caFile,
    },
    logger: world.logger,
    retry: { minDelay: 10, maxDelay: 20 },
    ...options,
  })
  world.defer(() => svc.close())
  return svc
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  )
}

describe('token requests with a client certificate', () => {
  it('tls_client_auth: client_id alone, to the discovered mTLS alias; the token is bound to the certificate', async () => {
    const smd = await world.target()
    const svc = client({ targets: { [smd.origin]: { scope: 'smd.read', audience: 'smd' } } })
    const res = await svc.fetch(`${smd.origin}/hsm/v2/State/Components`)
    expect(res.status).toBe(200)
    await res.text()

    const [sent] = world.issuer.tokenRequests
    expect(sent?.path).toBe('/oauth2/mtls/token')
    expect(sent?.certificate).toBe(world.bss.x5tS256)
    expect(sent?.headers.authorization).toBeUndefined()
    expect(sent?.form).toEqual({
      grant_type: 'client_credentials',
      client_id: 'bss',
      scope: 'smd.read',
      audience: 'smd',
    })
    // The target got the token over a connection presenting the certificate it is bound to.
    expect(smd.seen).toHaveLength(1)
    expect(smd.seen[0]).toMatchObject({ presented: world.bss.x5tS256, bound: world.bss.x5tS256 })
    const fetched = world.logs.lines.find((l) => l.event === 'token_fetched')
    expect(fetched).toMatchObject({ client_id: 'bss', x5t_s256: world.bss.x5tS256 })
  })

  it('self_signed_tls_client_auth with PEM given inline (Buffers) and the CA inline', async () => {
    const self = await createSelfSignedCertificate({ commonName: 'worker' })
    world.issuer.addClient({
      clientId: 'worker',
      authMethod: 'self_signed_tls_client_auth',
      certificates: [self],
    })
    const smd = await world.target()
    const svc = client({
      clientId: 'worker',
      authMethod: 'self_signed_tls_client_auth',
      tls: { cert: Buffer.from(self.cert), key: Buffer.from(self.key), ca: world.ca.cert },
      targets: { [smd.origin]: { audience: 'smd' } },
    })
    const token = await svc.getToken(smd.origin)
    expect(decodeJwt(token).cnf).toEqual({ 'x5t#S256': self.x5tS256 })
    const res = await svc.request(`${smd.origin}/x`)
    expect(res.statusCode).toBe(200)
    await res.body.text()
    expect(smd.seen[0]).toMatchObject({ presented: self.x5tS256, bound: self.x5tS256 })
  })

  it('a secret-authenticated client with tls still presents its certificate, and its tokens are bound', async () => {
    const smd = await world.target()
    const svc = client({
      clientId: 'bss-secret',
      clientSecret: 's3cret',
      authMethod: 'client_secret_basic',
      targets: { [smd.origin]: { audience: 'smd' } },
    })
    const res = await svc.fetch(`${smd.origin}/x`)
    expect(res.status).toBe(200)
    await res.text()
    const [sent] = world.issuer.tokenRequests
    expect(sent).toMatchObject({ path: '/oauth2/mtls/token', certificate: world.bss.x5tS256 })
    expect(sent?.headers.authorization).toMatch(/^Basic /)
    expect(smd.seen[0]).toMatchObject({ presented: world.bss.x5tS256, bound: world.bss.x5tS256 })
  })

  it('a configured tokenEndpoint is used as it is (no discovery, no alias)', async () => {
    const smd = await world.target()
    const svc = createServiceClient({
      tokenEndpoint: world.issuer.tokenEndpoint,
      clientId: 'bss',
      authMethod: 'tls_client_auth',
      tls: {
        certFile: world.files.certFile,
        keyFile: world.files.keyFile,
        caFile: world.files.caFile,
      },
      targets: { [smd.origin]: { audience: 'smd' } },
    })
    world.defer(() => svc.close())
    await svc.getToken(smd.origin)
    expect(world.issuer.hits.discovery).toBe(0)
    expect(world.issuer.tokenRequests[0]).toMatchObject({
      path: '/oauth2/token',
      certificate: world.bss.x5tS256,
    })
  })

  it('without a certificate the plain token endpoint is used even when an alias is published', async () => {
    const smd = await world.target()
    const svc = client({
      clientId: 'bss-secret',
      clientSecret: 's3cret',
      authMethod: 'client_secret_basic',
      tls: { caFile: world.files.caFile },
      targets: { [smd.origin]: { audience: 'smd' } },
    })
    const token = await svc.getToken(smd.origin)
    expect(decodeJwt(token).cnf).toBeUndefined()
    expect(world.issuer.tokenRequests[0]).toMatchObject({
      path: '/oauth2/token',
      certificate: undefined,
    })
    const res = await svc.fetch(`${smd.origin}/x`)
    await res.text()
    // An unbound token goes anywhere configured; this target saw no client certificate.
    expect(smd.seen[0]).toMatchObject({ presented: undefined, bound: undefined, status: 200 })
  })

  it('a refused certificate is a TokenEndpointError invalid_client, and nothing reaches the target', async () => {
    const stranger = await world.ca.issueClient({ commonName: 'mallory' })
    await world.files.write(stranger)
    const smd = await world.target()
    const svc = client({ targets: { [smd.origin]: { audience: 'smd' } } })
    const err = await failure(svc.fetch(`${smd.origin}/x`))
    expect(isTokenEndpointError(err) && err.error).toBe('invalid_client')
    expect(smd.seen).toHaveLength(0)
  })

  it('a malformed mtls_endpoint_aliases fails discovery rather than falling back silently', async () => {
    world.issuer.setDiscoveryOverrides({ mtls_endpoint_aliases: 'https://evil.example/token' })
    const smd = await world.target()
    const svc = client({ targets: { [smd.origin]: { audience: 'smd' } } })
    const err = await failure(svc.getToken(smd.origin))
    expect(isTokenEndpointError(err) && err.error).toBe('invalid_response')
    expect(world.issuer.hits.token).toBe(0)
  })
})

describe('a certificate-bound token goes only over connections presenting its certificate', () => {
  it('targets inherit the client certificate; one naming the same files with its own CA too', async () => {
    const smd = await world.target()
    const bss = await world.target()
    const svc = client({
      targets: {
        [smd.origin]: { audience: 'smd' },
        [bss.origin]: {
          audience: 'bss',
          tls: {
            certFile: world.files.certFile,
            keyFile: world.files.keyFile,
            ca: world.ca.cert,
          },
        },
      },
    })
    for (const t of [smd, bss]) {
      const res = await svc.fetch(`${t.origin}/x`)
      expect(res.status).toBe(200)
      await res.text()
      expect(t.seen[0]).toMatchObject({ presented: world.bss.x5tS256, bound: world.bss.x5tS256 })
    }
  })

  it('refuses a target with another certificate, with none (tls: false, CA only) and a plain-HTTP one, before sending', async () => {
    const other = await world.ca.issueClient({ commonName: 'bss-other' })
    const withOther = await world.target()
    const withNone = await world.target()
    const caOnly = await world.target()
    const plain = await startDownstream()
    world.defer(() => plain.close())
    const svc = client({
      targets: {
        [withOther.origin]: {
          audience: 'smd',
          tls: { cert: other.cert, key: other.key, ca: world.ca.cert },
        },
        [withNone.origin]: { audience: 'smd', tls: false },
        [caOnly.origin]: { audience: 'smd', tls: { caFile: world.files.caFile } },
        [plain.origin]: { audience: 'smd' },
      },
    })
    const cases = [
      { origin: withOther.origin, reason: 'other_certificate', presented: other.x5tS256 },
      { origin: caOnly.origin, reason: 'no_certificate', presented: undefined },
      { origin: plain.origin, reason: 'no_certificate', presented: undefined },
    ] as const
    for (const c of cases) {
      const err = await failure(svc.fetch(`${c.origin}/x`))
      expect(isCertificateBindingError(err)).toBe(true)
      expect(err).toMatchObject({
        code: 'ERR_CERTIFICATE_BINDING',
        origin: c.origin,
        reason: c.reason,
        certificate: world.bss.x5tS256,
        presented: c.presented,
      } satisfies Partial<CertificateBindingError>)
    }
    // tls: false trusts Node's default CAs only: the test CA's server is refused by TLS itself.
    await expect(svc.fetch(`${withNone.origin}/x`)).rejects.toThrow()
    await expect(svc.request(`${withOther.origin}/x`)).rejects.toMatchObject({
      code: 'ERR_CERTIFICATE_BINDING',
    })
    for (const t of [withOther, withNone, caOnly]) expect(t.seen).toHaveLength(0)
    expect(plain.seen).toHaveLength(0)
  })

  it('an origin outside the targets gets neither a token nor the client certificate', async () => {
    const smd = await world.target()
    const elsewhere = await world.target()
    const svc = client({ targets: { [smd.origin]: { audience: 'smd' } } })
    const err = await failure(svc.fetch(`${elsewhere.origin}/x`))
    // Plain TLS for an unknown origin: Node's default CAs, which do not include the test CA.
    expect(err).toBeInstanceOf(TypeError)
    expect(elsewhere.seen).toHaveLength(0)
    expect(world.issuer.hits.token).toBe(0)
  })

  it('a user token (not bound to a certificate) is forwarded to a target with another certificate', async () => {
    const other = await world.ca.issueClient({ commonName: 'bss-other' })
    const smd = await world.target()
    const svc = client({
      targets: {
        [smd.origin]: {
          audience: 'smd',
          userToken: 'forward',
          tls: { cert: other.cert, key: other.key, ca: world.ca.cert },
        },
      },
    })
    // The user's issuer: plain HTTP on loopback, so the verifier needs no CA.
    const users = await createTestIssuer({ keyCount: 1 })
    world.defer(() => users.close())
    const token = await users.mintUserToken({ sub: 'alice', clientId: 'ui', audience: ['smd'] })
    const auth = createAuthenticator({
      issuer: users.issuer,
      audience: 'smd',
      jwksUri: users.jwksUri,
      logger: { warn: () => undefined, error: () => undefined },
    })
    const principal = await auth.verify(token)
    auth.close()
    const res = await svc.forPrincipal(principal).fetch(`${smd.origin}/x`)
    expect(res.status).toBe(200)
    await res.text()
    expect(smd.seen[0]).toMatchObject({
      authorization: `Bearer ${token}`,
      presented: other.x5tS256,
      bound: undefined,
    })
    expect(world.issuer.hits.token).toBe(0)
  })
})
