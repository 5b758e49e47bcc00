/**
 * The quick-start walk-through: a test issuer on loopback, the inventory service, and one call per
 * situation a caller can be in. Each step says what it expects; `run()` reports what happened.
 */
import type { AddressInfo } from 'node:net'
import { createTestIssuer } from '@svcauth/testing'
import { generateKeyPair, SignJWT } from 'jose'
import { createInventoryApp } from './inventory.js'

export interface StepResult {
  readonly step: string
  readonly expected: number
  readonly status: number
  readonly detail: string
  readonly ok: boolean
}

export async function run(): Promise<StepResult[]> {
  const issuer = await createTestIssuer({ trailingSlash: true })
  const service = createInventoryApp({
    issuer: issuer.issuer,
    audience: 'smd',
    jwksUri: issuer.jwksUri,
  })
  const server = service.app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hsm/v2`
  const results: StepResult[] = []
  const call = async (step: string, expected: number, token?: string, method = 'GET') => {
    const res = await fetch(`${base}/State/Components`, {
      method,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    })
    const challenge = res.headers.get('www-authenticate') ?? res.headers.get('retry-after') ?? ''
    const body = await res.text()
    const detail = challenge === '' ? body.slice(0, 60) : challenge
    results.push({ step, expected, status: res.status, detail, ok: res.status === expected })
  }
  try {
    const bss = await issuer.mintClientToken({
      clientId: 'bss',
      scope: ['smd.read'],
      audience: ['smd'],
    })
    await call('BSS reads components with its client-credentials token', 200, bss)
    await call('no token', 401)
    await call('BSS writes without smd.write', 403, bss, 'POST')
    const attacker = await generateKeyPair('RS256')
    const forged = await new SignJWT({ client_id: 'bss', scp: ['smd.read'], aud: ['smd'] })
      .setProtectedHeader({ alg: 'RS256', kid: issuer.signingKid, typ: 'JWT' })
      .setIssuer(issuer.issuer)
      .setSubject('bss')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(attacker.privateKey)
    await call('forged token (attacker key, real kid)', 401, forged)
    const expired = await issuer.mintClientToken({
      clientId: 'bss',
      scope: ['smd.read'],
      audience: ['smd'],
      ttl: -300,
    })
    await call('expired token', 401, expired)
    const noAud = await issuer.mintClientToken({ clientId: 'bss', scope: ['smd.read'] })
    await call("Hydra's default aud: [] (audience not requested)", 401, noAud)
    issuer.setJwksMode('fail')
    const fresh = await issuer.mintClientToken({
      clientId: 'billing',
      scope: ['smd.read'],
      audience: ['smd'],
    })
    await call('JWKS endpoint down: last good keys keep serving', 200, fresh)
    const cold = createInventoryApp({
      issuer: issuer.issuer,
      audience: 'smd',
      jwksUri: issuer.jwksUri,
    })
    const coldServer = cold.app.listen(0, '127.0.0.1')
    await new Promise((resolve) => coldServer.once('listening', resolve))
    const coldRes = await fetch(
      `http://127.0.0.1:${(coldServer.address() as AddressInfo).port}/hsm/v2/State/Components`,
      { headers: { authorization: `Bearer ${fresh}` } },
    )
    results.push({
      step: 'JWKS down and no keys yet (cold start)',
      expected: 503,
      status: coldRes.status,
      detail: `Retry-After: ${coldRes.headers.get('retry-after') ?? '-'}`,
      ok: coldRes.status === 503,
    })
    await coldRes.text()
    cold.close()
    coldServer.close()
  } finally {
    service.close()
    server.close()
    await issuer.close()
  }
  return results
}
