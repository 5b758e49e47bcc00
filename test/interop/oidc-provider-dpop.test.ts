/**
 * DPoP interop (RFC 9449, issue 18) with a real authorization server we did not write:
 * oidc-provider issues DPoP-bound client-credentials tokens (a JWT with `cnf.jkt`, and an opaque
 * token whose introspection answer carries it) to the svcauth client, whose proofs it checks with
 * its own implementation; the client then calls both adapters, which check the client's proofs.
 * Nonces on both sides (the token endpoint's and a resource's), and a stolen token refused.
 */
import { createServiceClient, type ServiceClient, type TargetConfig } from '@svcauth/client'
import type { Principal } from '@svcauth/core'
import type * as ex from '@svcauth/express'
import { createDpopKey } from '@svcauth/testing'
import { decodeJwt } from 'jose'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSmd as startService } from './smd-service.js'
import {
  generateSigningKey,
  startProvider,
  type ProviderClient,
  type RunningProvider,
  type StartOptions,
} from '@svcauth/example-demo'

const SECRET = 'bss-dpop-secret-0123456789-abcdefghij'
const RS_SECRET = 'smd-resource-server-secret-0123456789'
const closers: (() => Promise<void> | void)[] = []
let provider: RunningProvider
let nonceProvider: RunningProvider

beforeAll(async () => {
  const clients: ProviderClient[] = [
    { clientId: 'bss', clientSecret: SECRET, authMethod: 'client_secret_basic' },
    { clientId: 'smd', clientSecret: RS_SECRET, authMethod: 'client_secret_basic' },
  ]
  const options: StartOptions = {
    clients,
    resources: {
      'urn:smd': { audience: 'smd', scope: 'smd.read smd.write', format: 'jwt' },
      'urn:smd:opaque': { audience: 'smd', scope: 'smd.read smd.write', format: 'opaque' },
    },
    keys: [await generateSigningKey()],
  }
  ;[provider, nonceProvider] = await Promise.all([
    startProvider(options),
    startProvider({ ...options, dpop: { requireNonce: true } }),
  ])
})
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close()
  await Promise.all([provider.close(), nonceProvider.close()])
})

function summary(p: Principal | undefined) {
  return p === undefined
    ? null
    : { actorId: p.actorId, scopes: [...p.scopes].sort(), jkt: p.confirmation?.jkt ?? null }
}

/** The SMD-like service on `framework`, answering {@link summary}. */
const startSmd = (framework: 'Express' | 'Koa', options: ex.AuthenticateOptions) =>
  startService(framework, options, summary, closers)

function bss(as: RunningProvider, smd: string, target: TargetConfig): ServiceClient {
  const svc = createServiceClient({
    issuer: as.issuer,
    clientId: 'bss',
    clientSecret: SECRET,
    targets: { [smd]: target },
    dpop: true,
    allowInsecureHttp: true,
  })
  closers.push(() => svc.close())
  return svc
}

async function get(svc: ServiceClient, url: string) {
  const res = await svc.fetch(url)
  return { status: res.status, body: await res.json() }
}

const jwtSmd = (as: RunningProvider, extra: Partial<ex.AuthenticateOptions> = {}) => ({
  issuer: as.issuer,
  audience: 'smd',
  dpop: true,
  ...extra,
})

describe.each(['Express', 'Koa'] as const)('oidc-provider DPoP → %s', (framework) => {
  it('a DPoP-bound JWT access token works with the client’s proofs', async () => {
    const smd = await startSmd(framework, jwtSmd(provider))
    const svc = bss(provider, smd, { scope: ['smd.read'], resource: 'urn:smd' })
    const token = await svc.getToken(smd)
    const jkt = (decodeJwt(token).cnf as { jkt?: string } | undefined)?.jkt
    expect(jkt).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const url = `${smd}/hsm/v2/State/Components`
    expect(await get(svc, url)).toEqual({
      status: 200,
      body: { actorId: 'bss', scopes: ['smd.read'], jkt },
    })
    // A fresh proof each call: the second call is not a replay.
    expect((await get(svc, url)).status).toBe(200)
  })

  it('a DPoP-bound opaque token works through introspection (cnf.jkt in the answer)', async () => {
    const smd = await startSmd(
      framework,
      jwtSmd(provider, { introspection: { clientId: 'smd', clientSecret: RS_SECRET } }),
    )
    const svc = bss(provider, smd, { scope: ['smd.read'], resource: 'urn:smd:opaque' })
    const token = await svc.getToken(smd)
    expect(token.split('.')).toHaveLength(1)
    const { status, body } = await get(svc, `${smd}/hsm/v2/State/Components`)
    expect(status).toBe(200)
    expect(body).toMatchObject({ actorId: 'bss', jkt: expect.stringMatching(/^[\w-]{43}$/) })
  })

  it('a stolen DPoP token is refused as Bearer and with the thief’s own proof', async () => {
    const smd = await startSmd(framework, jwtSmd(provider))
    const svc = bss(provider, smd, { scope: ['smd.read'], resource: 'urn:smd' })
    const stolen = await svc.getToken(smd)
    const url = `${smd}/hsm/v2/State/Components`
    const asBearer = await request(url, { headers: { authorization: `Bearer ${stolen}` } })
    await asBearer.body.dump()
    expect(asBearer.statusCode).toBe(401)
    expect(asBearer.headers['www-authenticate']).toMatch(
      /^Bearer realm="api", error="invalid_token"/,
    )
    const thief = await createDpopKey()
    const proof = await thief.proof({ method: 'GET', url, accessToken: stolen })
    const withProof = await request(url, {
      headers: { authorization: `DPoP ${stolen}`, dpop: proof },
    })
    await withProof.body.dump()
    expect(withProof.statusCode).toBe(401)
    expect(withProof.headers['www-authenticate']).toContain(
      'DPoP error="invalid_token", error_description="Invalid DPoP key binding"',
    )
  })

  it('nonces: the token endpoint’s and the resource’s are each learnt with one retry', async () => {
    const smd = await startSmd(framework, jwtSmd(nonceProvider, { dpop: { nonce: true } }))
    const svc = bss(nonceProvider, smd, { scope: ['smd.read'], resource: 'urn:smd' })
    const url = `${smd}/hsm/v2/State/Components`
    expect((await get(svc, url)).status).toBe(200)
    expect((await get(svc, url)).status).toBe(200)
  })

  it('a resource that requires DPoP refuses a plain Bearer client', async () => {
    const smd = await startSmd(framework, jwtSmd(provider, { dpop: { required: true } }))
    const plain = createServiceClient({
      issuer: provider.issuer,
      clientId: 'bss',
      clientSecret: SECRET,
      targets: { [smd]: { scope: ['smd.read'], resource: 'urn:smd' } },
      allowInsecureHttp: true,
    })
    closers.push(() => plain.close())
    const res = await plain.fetch(`${smd}/hsm/v2/State/Components`)
    await res.text()
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^DPoP algs="/)
  })
})
