/**
 * Issue 20, item 3, against a real authorization server that does not introspect JWTs:
 * oidc-provider answers `400 unsupported_token_type` for its JWT access tokens (its
 * `reject_structured_tokens`; Hydra does introspect its JWTs, as the test kit's endpoint does).
 * A service told to introspect JWTs (`introspection.jwt`) then fails closed: 503, with the
 * server's error code in the log line, on Express and Koa; without the option the same token is
 * accepted.
 */
import { createServiceClient } from '@svcauth/client'
import type { Principal } from '@svcauth/core'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSmd as startService } from './smd-service.js'
import { generateSigningKey, startProvider, type RunningProvider } from '@svcauth/example-demo'

const SECRETS = {
  bss: 'bss-secret-0123456789-abcdefghijklmnop',
  smd: 'smd-rs-secret-0123456789-abcdef',
}
const closers: (() => Promise<void> | void)[] = []
let provider: RunningProvider

beforeAll(async () => {
  provider = await startProvider({
    clients: [
      { clientId: 'bss', clientSecret: SECRETS.bss, authMethod: 'client_secret_basic' },
      { clientId: 'smd', clientSecret: SECRETS.smd, authMethod: 'client_secret_basic' },
    ],
    resources: { 'urn:smd': { audience: 'smd', scope: 'smd.read smd.write', format: 'jwt' } },
    keys: [await generateSigningKey()],
  })
  closers.push(() => provider.close())
})
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

const summary = (p: Principal | undefined) => (p === undefined ? null : { actorId: p.actorId })

async function get(url: string, token: string): Promise<number> {
  const res = await request(`${url}/hsm/v2/State/Components`, {
    headers: { authorization: `Bearer ${token}` },
  })
  await res.body.dump()
  return res.statusCode
}

describe.each(['Express', 'Koa'] as const)(
  'JWT introspection on %s (issue 20, item 3)',
  (framework) => {
    it('oidc-provider will not introspect its JWTs: the service fails closed with 503 and says why', async () => {
      const lines: Record<string, unknown>[] = []
      const logger = {
        warn: (obj: Record<string, unknown>) => lines.push(obj),
        error: (obj: Record<string, unknown>) => lines.push(obj),
      }
      const base = { issuer: provider.issuer, audience: 'smd', logger }
      const introspecting = await startService(
        framework,
        { ...base, introspection: { clientId: 'smd', clientSecret: SECRETS.smd, jwt: 'always' } },
        summary,
        closers,
      )
      const plain = await startService(framework, base, summary, closers)
      const svc = createServiceClient({
        issuer: provider.issuer,
        clientId: 'bss',
        clientSecret: SECRETS.bss,
        allowInsecureHttp: true,
        targets: { [introspecting]: { scope: ['smd.read'], resource: 'urn:smd' } },
      })
      closers.push(() => svc.close())
      const token = await svc.getToken(introspecting)
      expect(token.split('.')).toHaveLength(3)
      expect(await get(plain, token)).toBe(200)
      // oidc-provider answers 400 unsupported_token_type for a JWT: never accepted unasked.
      expect(await get(introspecting, token)).toBe(503)
      expect(lines).toContainEqual(
        expect.objectContaining({
          event: 'introspection_failed',
          error: 'expected 200, got 400 (unsupported_token_type)',
        }),
      )
      expect(JSON.stringify(lines)).not.toContain(token)
    })
  },
)
