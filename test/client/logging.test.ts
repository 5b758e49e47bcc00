/**
 * Outbound events through a real pino logger (issue 5, catalogue I3): `token_fetched`,
 * `token_refresh_failed`, `token_fetch_failed` (invalid_client at error level) and
 * `token_rejected`, each with client_id, grant, target, scope and audience, and never a token, a
 * refresh token or a client secret, whichever way the secret was sent.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { createServiceClient, type ServiceClient, type ServiceClientOptions } from '@svcauth/client'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { captureLogs, LEVEL, type LogCapture } from '../support/log-capture.js'
import { startDownstream, type Downstream } from './downstream.js'

const SECRET = 'CANARY2-z/tZ9VwFZqApmIQ+ZH1I5pLk'

let issuer: TestIssuer
let smd: Downstream
let logs: LogCapture
const clients: ServiceClient[] = []

beforeEach(async () => {
  issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'bss', secrets: [SECRET] })
  smd = await startDownstream()
  logs = captureLogs()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all([smd.close(), issuer.close()])
})

function client(extra: Partial<ServiceClientOptions> = {}): ServiceClient {
  const svc = createServiceClient({
    tokenEndpoint: issuer.tokenEndpoint,
    clientId: 'bss',
    clientSecret: SECRET,
    targets: { [smd.origin]: { scope: ['smd.read'], audience: 'smd' } },
    retry: { minDelay: 20, maxDelay: 40 },
    logger: pino({}, logs.stream),
    ...extra,
  })
  clients.push(svc)
  return svc
}

const events = (name: string) => logs.lines.filter((l) => l.event === name)

function expectNoSecrets(extra: readonly string[] = []): void {
  const text = logs.raw.join('')
  for (const secret of [SECRET, encodeURIComponent(SECRET), 'CANARY', ...extra])
    expect(text).not.toContain(secret)
}

describe('outbound events', () => {
  it('token_fetched names the client, grant, target, scope and audience, not the token', async () => {
    issuer.addClient({ clientId: 'bss-post', secrets: [SECRET], authMethod: 'client_secret_post' })
    for (const [clientId, authMethod] of [
      ['bss', 'client_secret_basic'],
      ['bss-post', 'client_secret_post'],
    ] as const) {
      const svc = client({ clientId, authMethod })
      const token = await svc.getToken(smd.origin)
      await (await svc.fetch(`${smd.origin}/hsm/v2/State/Components`)).text()
      expectNoSecrets([token, ...token.split('.')])
    }
    const fetched = events('token_fetched')
    expect(fetched).toHaveLength(2)
    expect(fetched[0]).toMatchObject({
      level: LEVEL.info,
      client_id: 'bss',
      grant_type: 'client_credentials',
      target: smd.origin,
      scope: 'smd.read',
      audience: 'smd',
      expires_in: 3599,
    })
  })

  it('I3: a token response with a refresh token leaks neither token into the logs', async () => {
    issuer.setTokenMode({
      status: 200,
      body: '{"access_token":"CANARY3","refresh_token":"CANARY4","token_type":"bearer","expires_in":60}',
    })
    const svc = client()
    await (await svc.fetch(`${smd.origin}/x`)).text()
    expect(smd.seen[0]?.authorization).toBe('Bearer CANARY3')
    expect(events('token_fetched')).toHaveLength(1)
    expectNoSecrets()
  })

  it('invalid_client is one token_fetch_failed error line with the OAuth error and the target', async () => {
    const svc = client({ clientSecret: 'CANARY-wrong-secret' })
    await expect(svc.fetch(`${smd.origin}/x`)).rejects.toThrow()
    const [failed] = events('token_fetch_failed')
    expect(events('token_fetch_failed')).toHaveLength(1)
    expect(failed).toMatchObject({
      level: LEVEL.error,
      client_id: 'bss',
      grant_type: 'client_credentials',
      target: smd.origin,
      error: 'invalid_client',
      status: 401,
    })
    expect(smd.seen).toHaveLength(0)
    expectNoSecrets()
  })

  it('a failed refresh ahead of expiry is a warning; the current token stays in use', async () => {
    issuer.setTokenMode({
      status: 200,
      body: '{"access_token":"first","token_type":"Bearer","expires_in":2}',
    })
    const svc = client({ refreshSkew: 30 })
    await (await svc.fetch(`${smd.origin}/x`)).text()
    issuer.setTokenMode('5xx')
    await sleep(1100) // past half of the 2 s lifetime: the next call starts a refresh
    await (await svc.fetch(`${smd.origin}/x`)).text()
    await sleep(50)
    expect(smd.seen.map((s) => s.authorization)).toEqual(['Bearer first', 'Bearer first'])
    const [refresh] = events('token_refresh_failed')
    expect(refresh).toMatchObject({ level: LEVEL.warn, client_id: 'bss', target: smd.origin })
    expect(events('token_fetch_failed')).toHaveLength(0)
  })

  it('token_rejected warns once when a target refuses the cached token', async () => {
    smd.respond = (_req, n) =>
      n === 1
        ? { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }
        : undefined
    const svc = client()
    const res = await svc.fetch(`${smd.origin}/x`)
    await res.text()
    // The first token was fetched in this call, so the 401 surfaces; the next call renews once.
    expect(res.status).toBe(401)
    smd.respond = (_req, n) =>
      n === 2
        ? { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }
        : undefined
    const again = await svc.fetch(`${smd.origin}/x`)
    await again.text()
    expect(again.status).toBe(200)
    expect(events('token_rejected')).toEqual([
      expect.objectContaining({
        level: LEVEL.warn,
        client_id: 'bss',
        target: smd.origin,
        scope: 'smd.read',
        audience: 'smd',
      }),
    ])
    expectNoSecrets(smd.seen.map((s) => (s.authorization ?? '').slice(7)))
  })
})
