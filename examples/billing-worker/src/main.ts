/**
 * Runs the billing worker: `ISSUER=… CLIENT_ID=billing-worker CLIENT_SECRET=… HSM_URL=… pnpm start`.
 */
import process from 'node:process'
import { createServiceClient } from '@svcauth/client'
import pino from 'pino'
import { createBillingWorker } from './worker.js'

const { ISSUER: issuer, CLIENT_ID: clientId, CLIENT_SECRET: clientSecret } = process.env
if (issuer === undefined || clientId === undefined || clientSecret === undefined) {
  console.error('set ISSUER, CLIENT_ID and CLIENT_SECRET (and HSM_URL)')
  process.exit(2)
}
const apiUrl = process.env.HSM_URL ?? 'http://127.0.0.1:27779'
const logger = pino()
const svc = createServiceClient({
  issuer,
  clientId,
  clientSecret,
  targets: { [apiUrl]: { scope: ['smd.read'], audience: 'smd' } },
  logger,
})
const worker = createBillingWorker({ svc, clientId, apiUrl, logger })
worker.start()
process.once('SIGTERM', () => {
  worker.stop()
  void svc.close()
})
