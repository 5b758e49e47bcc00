/**
 * Issue 16, item 1: no silent failures. Without a `logger`, every infrastructure failure becomes a
 * Node process warning with a stable `SVCAUTH_…` code, rate-limited per condition, and never
 * carries a token, a secret or a subject. Captured with `process.on('warning')` against real
 * loopback issuers.
 */
import { createServiceClient } from '@svcauth/client'
import { createAuthenticator, createWarningLogger } from '@svcauth/core'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

interface Captured {
  readonly code: string | undefined
  readonly message: string
}

const warnings: Captured[] = []
const onWarning = (w: Error & { code?: string }): void => {
  if (w.code?.startsWith('SVCAUTH_') === true) warnings.push({ code: w.code, message: w.message })
}
// Node emits 'warning' on the next tick after emitWarning.
const settle = () => new Promise((resolve) => setImmediate(resolve))
const codes = () => warnings.map((w) => w.code)

let issuer: TestIssuer
beforeAll(async () => {
  process.on('warning', onWarning)
  issuer = await createTestIssuer({ keyCount: 1 })
})
afterAll(async () => {
  process.off('warning', onWarning)
  await issuer.close()
})
afterEach(() => {
  warnings.length = 0
  issuer.setJwksMode('ok')
  issuer.setDiscoveryMode('ok')
  issuer.setDiscoveryOverrides({})
  issuer.setIntrospectionMode('ok')
  issuer.setTokenMode('ok')
})

describe('process warnings without a logger (issue 16, item 1)', () => {
  it('an unreachable JWKS is one SVCAUTH_JWKS_FETCH_FAILED warning naming the issuer and address, rate-limited per condition', async () => {
    issuer.setJwksMode('fail')
    const auth = createAuthenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      jwksUri: issuer.jwksUri,
      allowInsecureHttp: true,
      jwks: { cooldown: 0 },
    })
    try {
      expect(await auth.ready()).toBe(false)
      expect(await auth.ready()).toBe(false) // a second failed fetch: same condition, suppressed
      expect(await auth.ready()).toBe(false)
      await settle()
      expect(codes()).toEqual(['SVCAUTH_JWKS_FETCH_FAILED'])
      expect(warnings[0]?.message).toContain(`issuer=${issuer.issuer}`)
      expect(warnings[0]?.message).toContain(`jwks_uri=${issuer.jwksUri}`)
    } finally {
      auth.close()
    }
  })

  it('an unparsable JWKS is SVCAUTH_JWKS_INVALID', async () => {
    issuer.setJwksMode('garbage')
    const auth = createAuthenticator({
      issuer: `${issuer.issuer}/garbage`, // its own condition, not suppressed by the test above
      audience: 'smd',
      jwksUri: issuer.jwksUri,
      allowInsecureHttp: true,
    })
    try {
      expect(await auth.ready()).toBe(false)
      await settle()
      expect(codes()).toEqual(['SVCAUTH_JWKS_INVALID'])
    } finally {
      auth.close()
    }
  })

  it('discovery metadata naming another issuer is SVCAUTH_ISSUER_MISMATCH, and the message names both issuers', async () => {
    issuer.setDiscoveryOverrides({ issuer: 'https://elsewhere.example/' })
    const auth = createAuthenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      allowInsecureHttp: true,
    })
    try {
      expect(await auth.ready()).toBe(false)
      await settle()
      expect(codes()).toEqual(['SVCAUTH_ISSUER_MISMATCH'])
      expect(warnings[0]?.message).toContain('"https://elsewhere.example/"')
      expect(warnings[0]?.message).toContain(`"${issuer.issuer}"`)
    } finally {
      auth.close()
    }
  })

  it('an introspection endpoint that is down is SVCAUTH_INTROSPECTION_FAILED, without the token', async () => {
    issuer.setIntrospectionMode('down')
    const token = issuer.mintOpaqueToken({ clientId: 'worker', audience: ['smd'] })
    const auth = createAuthenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      jwksUri: issuer.jwksUri,
      allowInsecureHttp: true,
      introspection: { endpoint: issuer.introspectionEndpoint },
    })
    try {
      await expect(auth.verify(token)).rejects.toMatchObject({ status: 503 })
      await settle()
      expect(codes()).toContain('SVCAUTH_INTROSPECTION_FAILED')
      expect(warnings.every((w) => !w.message.includes(token))).toBe(true)
    } finally {
      auth.close()
    }
  })

  it('a token endpoint that is down is SVCAUTH_TOKEN_REQUEST_FAILED from the client, without the secret', async () => {
    issuer.addClient({ clientId: 'billing', secrets: ['s3cret-value'] })
    issuer.setTokenMode('down')
    const svc = createServiceClient({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId: 'billing',
      clientSecret: 's3cret-value',
      allowInsecureHttp: true,
      targets: { 'http://127.0.0.1:9': { scope: ['smd.read'] } },
    })
    try {
      await expect(svc.getToken('http://127.0.0.1:9')).rejects.toBeDefined()
      await settle()
      expect(codes()).toEqual(['SVCAUTH_TOKEN_REQUEST_FAILED'])
      expect(warnings[0]?.message).toContain('client_id=billing')
      expect(warnings[0]?.message).not.toContain('s3cret-value')
    } finally {
      await svc.close()
    }
  })
})

describe('createWarningLogger (issue 16, item 1)', () => {
  it('one warning per condition per interval; the next says how many were suppressed; subjects never shown', async () => {
    let now = 0
    const logger = createWarningLogger({ interval: 60_000, now: () => now })
    const failed = { event: 'jwks_fetch_failed', issuer: 'https://a.example/', error: 'down' }
    logger.error(failed, 'svcauth: fetching the issuer key set failed')
    logger.error(failed, 'svcauth: fetching the issuer key set failed')
    logger.error(failed, 'svcauth: fetching the issuer key set failed')
    // Another issuer is another condition.
    logger.error({ ...failed, issuer: 'https://b.example/' }, 'svcauth: fetching failed')
    // An event with no documented code is not a warning; `sub` is never copied.
    logger.warn({ event: 'user_token_refused', sub: 'alice' }, 'refused')
    logger.error({ event: 'token_fetch_failed', client_id: 'c', sub: 'alice' }, 'failed')
    now = 60_000
    logger.error(failed, 'svcauth: fetching the issuer key set failed')
    await settle()
    expect(codes()).toEqual([
      'SVCAUTH_JWKS_FETCH_FAILED',
      'SVCAUTH_JWKS_FETCH_FAILED',
      'SVCAUTH_TOKEN_REQUEST_FAILED',
      'SVCAUTH_JWKS_FETCH_FAILED',
    ])
    expect(warnings[3]?.message).toContain('2 more like it in the last 60 s')
    expect(warnings.every((w) => !w.message.includes('alice'))).toBe(true)
  })
})
