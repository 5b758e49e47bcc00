/**
 * A user's own undici Agent (issue 16, item 6): passed as `dispatcher` and `tokenDispatcher`, it
 * carries the downstream calls and the token requests, and it stays the user's: `svc.close()`
 * does not close it. The Agent resolves the in-cluster names `hydra.test` and `smd.test` to the
 * loopback servers (test/support/named-agent.ts).
 */
import { createServiceClient } from '@svcauth/client'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { request } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { namedAgent, renamed } from '../support/named-agent.js'
import { startDownstream, type Downstream } from './downstream.js'

let issuer: TestIssuer
let smd: Downstream

beforeEach(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'bss', secrets: ['s3cret'], scope: ['smd.read'], audience: ['smd'] })
  smd = await startDownstream()
})
afterEach(async () => {
  await smd.close()
  await issuer.close()
})

describe("the user's own undici Agent", () => {
  it('carries token requests and downstream calls, and is not closed by svc.close()', async () => {
    const agent = namedAgent()
    const hydra = renamed(issuer.issuer, 'hydra.test')
    const target = renamed(smd.origin, 'smd.test')
    const svc = createServiceClient({
      tokenEndpoint: renamed(issuer.tokenEndpoint, 'hydra.test'),
      clientId: 'bss',
      clientSecret: 's3cret',
      targets: { [target]: { scope: 'smd.read', audience: 'smd' } },
      allowInsecureHttp: [hydra],
      dispatcher: agent,
      tokenDispatcher: agent,
    })
    try {
      const res = await svc.fetch(`${target}/hsm/v2/State/Components`)
      expect(res.status).toBe(200)
      expect(smd.seen.at(-1)?.authorization).toMatch(/^Bearer /)
      expect(issuer.tokenRequests).toHaveLength(1)
      const viaRequest = await svc.request(`${target}/x`)
      await viaRequest.body.text()
      expect(viaRequest.statusCode).toBe(200)
    } finally {
      await svc.close()
    }
    // Still open: the user's Agent serves the user's own calls after the client is closed.
    const after = await request(`${target}/after`, { dispatcher: agent })
    await after.body.text()
    expect(after.statusCode).toBe(200)
    expect(smd.seen.at(-1)).toMatchObject({ path: '/after', authorization: undefined })
    await agent.close()
  })
})
