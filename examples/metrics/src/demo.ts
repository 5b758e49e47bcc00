/**
 * `pnpm demo`: a test issuer on loopback, the service, a few calls (accepted, cached, refused),
 * then one Prometheus scrape of its `svcauth_*` metrics printed to stdout.
 */
import { createTestIssuer } from '@svcauth/testing'
import { startMetricsService } from './service.js'

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
  for (const authorization of [`Bearer ${token}`, `Bearer ${token}`, undefined]) {
    await (
      await fetch(url, authorization === undefined ? {} : { headers: { authorization } })
    ).text()
  }
  const scrape = await (await fetch(svc.metricsUrl)).text()
  process.stdout.write(
    scrape
      .split('\n')
      .filter((line) => line.includes('svcauth_'))
      .join('\n') + '\n',
  )
} finally {
  await svc.close()
  await issuer.close()
}
