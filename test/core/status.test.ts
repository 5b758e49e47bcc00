/**
 * Issue 16, item 2: `authenticator.status()` for readiness probes and dashboards. Per issuer: the
 * JWKS address in use (configured or discovered), the key count, when keys were last fetched, and
 * the last failure; the introspection endpoint when configured. Real loopback JWKS servers that
 * are up, down, and moved.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAuthenticator, type Authenticator } from '@svcauth/core'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})
const silent = { warn: () => undefined, error: () => undefined }

async function newIssuer(): Promise<TestIssuer> {
  const issuer = await createTestIssuer({ keyCount: 2 })
  closers.push(() => issuer.close())
  return issuer
}

function authenticator(options: Parameters<typeof createAuthenticator>[0]): Authenticator {
  const auth = createAuthenticator({ logger: silent, ...options })
  closers.push(() => {
    auth.close()
  })
  return auth
}

/** A JWKS server on loopback publishing `keys`. */
async function keyServer(keys: JWK[]): Promise<string> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys/v2`
}

describe('authenticator.status() (issue 16, item 2)', () => {
  it('up: the configured JWKS address, the key count and when the keys were fetched; no failure', async () => {
    const issuer = await newIssuer()
    const before = Date.now()
    const auth = authenticator({ issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri })
    expect(await auth.ready()).toBe(true)
    const [status, ...rest] = auth.status()
    expect(rest).toEqual([])
    expect(status).toMatchObject({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, keys: 2 })
    expect(status?.fetchedAt).toBeInstanceOf(Date)
    expect(status?.fetchedAt?.getTime()).toBeGreaterThanOrEqual(before)
    expect(status?.lastFailure).toBeUndefined()
    expect(status?.introspection).toBeUndefined()
  })

  it('down: no keys, no fetch time, and the last failure with its reason, message and time', async () => {
    const issuer = await newIssuer()
    issuer.setJwksMode('fail')
    const auth = authenticator({ issuer: issuer.issuer, audience: 'smd', jwksUri: issuer.jwksUri })
    expect(await auth.ready()).toBe(false)
    const [status] = auth.status()
    expect(status).toMatchObject({ jwksUri: issuer.jwksUri, keys: 0, fetchedAt: undefined })
    expect(status?.lastFailure).toMatchObject({
      reason: 'jwks_fetch_failed',
      message: 'expected 200, got 500',
    })
    expect(status?.lastFailure?.at).toBeInstanceOf(Date)
  })

  it('down, then up: keys again, and the earlier failure is kept (older than fetchedAt)', async () => {
    const issuer = await newIssuer()
    issuer.setJwksMode('garbage')
    const auth = authenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      jwksUri: issuer.jwksUri,
      jwks: { cooldown: 0 },
    })
    expect(await auth.ready()).toBe(false)
    expect(auth.status()[0]?.lastFailure?.reason).toBe('jwks_invalid')
    issuer.setJwksMode('ok')
    expect(await auth.ready()).toBe(true)
    const [status] = auth.status()
    expect(status?.keys).toBe(2)
    expect(status?.lastFailure?.reason).toBe('jwks_invalid')
    expect(status?.fetchedAt?.getTime()).toBeGreaterThanOrEqual(
      status?.lastFailure?.at.getTime() ?? Infinity,
    )
  })

  it('discovered and moved: the address in use follows the issuer to its new JWKS', async () => {
    const issuer = await newIssuer()
    const auth = authenticator({ issuer: issuer.issuer, audience: 'smd', jwks: { cooldown: 0 } })
    expect(await auth.ready()).toBe(true)
    expect(auth.status()[0]).toMatchObject({ jwksUri: issuer.jwksUri, keys: 2 })

    // The issuer moves its keys: a new address with one new key; the old one answers 500.
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'moved-1', alg: 'ES256', use: 'sig' }
    const moved = await keyServer([jwk])
    issuer.setDiscoveryOverrides({ jwks_uri: moved })
    issuer.setJwksMode('fail')
    const now = Math.floor(Date.now() / 1000)
    const token = await new SignJWT({ client_id: 'worker', scp: [] })
      .setProtectedHeader({ alg: 'ES256', kid: 'moved-1', typ: 'JWT' })
      .setIssuer(issuer.issuer)
      .setSubject('worker')
      .setAudience('smd')
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(privateKey)
    await expect(auth.verify(token)).resolves.toMatchObject({ clientId: 'worker' })
    expect(auth.status()[0]).toMatchObject({ jwksUri: moved, keys: 1 })
  })

  it('with introspection: the endpoint in use and its last failure, on the issuer that has it', async () => {
    const issuer = await newIssuer()
    issuer.setIntrospectionMode('5xx')
    const auth = authenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      jwksUri: issuer.jwksUri,
      introspection: { endpoint: issuer.introspectionEndpoint },
    })
    expect(auth.status()[0]?.introspection).toEqual({ endpoint: issuer.introspectionEndpoint })
    const opaque = issuer.mintOpaqueToken({ clientId: 'worker', audience: ['smd'] })
    await expect(auth.verify(opaque)).rejects.toMatchObject({ status: 503 })
    const state = auth.status()[0]?.introspection
    expect(state?.endpoint).toBe(issuer.introspectionEndpoint)
    expect(state?.lastFailure?.reason).toBe('introspection_failed')
    expect(state?.lastFailure?.message).not.toContain(opaque)
  })
})
