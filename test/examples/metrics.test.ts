/**
 * The metrics example (issue 16, item 3): a Prometheus scrape of its loopback `/metrics` shows
 * svcauth's inbound requests, the JWKS fetch and the key set's age, in Prometheus names.
 */
import { startMetricsService } from '@svcauth/example-metrics'
import { createTestIssuer } from '@svcauth/testing'
import { describe, expect, it } from 'vitest'

describe('metrics example', () => {
  it('exposes svcauth_inbound_requests and the JWKS metrics on /metrics', async () => {
    const issuer = await createTestIssuer()
    const svc = await startMetricsService({
      issuer: issuer.issuer,
      jwksUri: issuer.jwksUri,
      audience: 'smd',
    })
    try {
      const url = `${svc.origin}/hsm/v2/State/Components`
      const token = await issuer.mintClientToken({
        clientId: 'bss',
        scope: ['smd.read'],
        audience: ['smd'],
      })
      const headers = { authorization: `Bearer ${token}` }
      expect((await fetch(url, { headers })).status).toBe(200)
      expect((await fetch(url, { headers })).status).toBe(200)
      expect((await fetch(url)).status).toBe(401)

      const res = await fetch(svc.metricsUrl)
      expect(res.status).toBe(200)
      const text = await res.text()
      const line = (pattern: RegExp) => text.split('\n').find((l) => pattern.test(l))
      expect(text).toContain('svcauth_inbound_requests')
      expect(
        line(/^svcauth_inbound_requests_total\{.*svcauth_outcome="authenticated".*"hit"/),
      ).toMatch(/ 1$/)
      expect(line(/^svcauth_inbound_requests_total\{.*svcauth_reason="missing_token"/)).toMatch(
        / 1$/,
      )
      expect(line(/^svcauth_jwks_fetches_total\{.*svcauth_result="ok"/)).toMatch(/ 1$/)
      expect(text).toContain('# TYPE svcauth_jwks_age gauge')
      expect(text).not.toContain(token)
    } finally {
      await svc.close()
      await issuer.close()
    }
  })
})
