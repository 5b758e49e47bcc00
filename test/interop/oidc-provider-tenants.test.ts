/**
 * Issue 20 against a real authorization server: several oidc-provider instances on loopback, one
 * per site, in front of one SMD-like service on Express and Koa whose `issuers` is a function
 * (many tenants). Each site's BSS gets a token from its own provider with client credentials and
 * a resource indicator; the service discovers each site's keys on first use, and refuses a
 * provider it does not know without asking it anything.
 */
import { createServiceClient, type ServiceClient } from '@svcauth/client'
import type { IssuerConfig, Principal } from '@svcauth/core'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSmd as startService } from './smd-service.js'
import {
  generateSigningKey,
  startProvider,
  type ProviderClient,
  type RunningProvider,
} from '@svcauth/example-demo'

const SECRET = 'bss-secret-0123456789-abcdefghijklmnop'
const closers: (() => Promise<void> | void)[] = []
let siteA: RunningProvider
let siteB: RunningProvider
let stranger: RunningProvider

async function site(): Promise<RunningProvider> {
  const clients: ProviderClient[] = [
    { clientId: 'bss', clientSecret: SECRET, authMethod: 'client_secret_basic' },
  ]
  const provider = await startProvider({
    clients,
    resources: { 'urn:smd': { audience: 'smd', scope: 'smd.read smd.write', format: 'jwt' } },
    keys: [await generateSigningKey()],
  })
  closers.push(() => provider.close())
  return provider
}

beforeAll(async () => {
  ;[siteA, siteB, stranger] = await Promise.all([site(), site(), site()])
})
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

function summary(p: Principal | undefined) {
  return p === undefined ? null : { issuer: p.issuer, actorId: p.actorId }
}

function bss(provider: RunningProvider, smd: string): ServiceClient {
  const svc = createServiceClient({
    issuer: provider.issuer,
    clientId: 'bss',
    clientSecret: SECRET,
    allowInsecureHttp: true,
    targets: { [smd]: { scope: ['smd.read'], resource: 'urn:smd' } },
  })
  closers.push(() => svc.close())
  return svc
}

describe.each(['Express', 'Koa'] as const)('many tenants on %s (issue 20, item 2)', (framework) => {
  let smd: string
  const asked: string[] = []

  beforeAll(async () => {
    const tenants = new Set([siteA.issuer, siteB.issuer])
    const issuers = (iss: string): IssuerConfig | undefined => {
      asked.push(iss)
      return tenants.has(iss) ? { issuer: iss, audience: 'smd' } : undefined
    }
    smd = await startService(framework, { issuers }, summary, closers)
  })

  it("accepts each site's token, its keys found by discovery at that site", async () => {
    for (const provider of [siteA, siteB]) {
      const svc = bss(provider, smd)
      const res = await svc.fetch(`${smd}/hsm/v2/State/Components`)
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 200,
        body: { issuer: provider.issuer, actorId: 'bss' },
      })
    }
  })

  it('refuses a provider the resolver does not know: 401, asked once', async () => {
    const svc = bss(stranger, smd)
    const token = await svc.getToken(smd)
    for (let i = 0; i < 2; i++) {
      const res = await request(`${smd}/hsm/v2/State/Components`, {
        headers: { authorization: `Bearer ${token}` },
      })
      expect(res.statusCode).toBe(401)
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"')
      await res.body.dump()
    }
    expect(asked.filter((iss) => iss === stranger.issuer)).toHaveLength(1)
  })
})
