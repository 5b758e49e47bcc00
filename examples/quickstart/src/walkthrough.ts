/**
 * The quick-start walk-through: a test issuer on loopback, the inventory service, and one call per
 * situation a caller can be in. Each step says what it expects; `run()` reports what happened.
 */
import type { AddressInfo } from 'node:net'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { createInventoryApp } from './inventory.js'

export interface StepResult {
  readonly step: string
  readonly expected: number
  readonly status: number
  readonly detail: string
  readonly ok: boolean
}

interface RunningService {
  call(step: string, expected: number, token?: string, method?: string): Promise<StepResult>
  stop(): void
}

/** Starts the inventory service on a free loopback port, trusting `issuer`. */
async function start(issuer: TestIssuer): Promise<RunningService> {
  const service = createInventoryApp({
    issuer: issuer.issuer,
    audience: 'smd',
    jwksUri: issuer.jwksUri,
  })
  const server = service.app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hsm/v2/State/Components`
  return {
    async call(step, expected, token, method = 'GET') {
      const res = await fetch(url, {
        method,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      })
      const body = await res.text()
      const retryAfter = res.headers.get('retry-after')
      const detail =
        res.headers.get('www-authenticate') ??
        (retryAfter === null ? body.slice(0, 60) : `Retry-After: ${retryAfter}`)
      return { step, expected, status: res.status, detail, ok: res.status === expected }
    },
    stop() {
      service.close()
      server.close()
    },
  }
}

export async function run(): Promise<StepResult[]> {
  const issuer = await createTestIssuer({ trailingSlash: true })
  const smd = await start(issuer)
  const results: StepResult[] = []
  const token = (clientId: string, extra: { audience?: string[]; ttl?: number } = {}) =>
    issuer.mintClientToken({ clientId, scope: ['smd.read'], audience: ['smd'], ...extra })
  try {
    const bss = await token('bss')
    results.push(
      await smd.call('BSS reads components with its client-credentials token', 200, bss),
      await smd.call('no token', 401),
      await smd.call('BSS writes without smd.write', 403, bss, 'POST'),
      await smd.call(
        'forged token (attacker key, real kid)',
        401,
        await issuer.forgeClientToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'] }),
      ),
      await smd.call('expired token', 401, await token('bss', { ttl: -300 })),
      await smd.call(
        "Hydra's default aud: [] (audience not requested)",
        401,
        await token('bss', { audience: [] }),
      ),
    )
    issuer.setJwksMode('fail')
    const billing = await token('billing')
    results.push(await smd.call('JWKS endpoint down: last good keys keep serving', 200, billing))
    const cold = await start(issuer)
    try {
      results.push(await cold.call('JWKS down and no keys yet (cold start)', 503, billing))
    } finally {
      cold.stop()
    }
  } finally {
    smd.stop()
    await issuer.close()
  }
  return results
}
