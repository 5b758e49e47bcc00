/**
 * Runs the BSS-style service on its own:
 * `BSS_ISSUER=… BSS_CLIENT_ID=bss BSS_CLIENT_SECRET=… HSM_URL=http://127.0.0.1:27779 pnpm start`.
 * Listens on 127.0.0.1:27778 (BSS's port) unless `PORT` says otherwise.
 */
import process from 'node:process'
import { createServiceClient } from '@svcauth/client'
import { createBssApp } from './app.js'

const { BSS_ISSUER: issuer, BSS_CLIENT_ID: clientId, BSS_CLIENT_SECRET: clientSecret } = process.env
if (issuer === undefined || clientId === undefined || clientSecret === undefined) {
  console.error('set BSS_ISSUER, BSS_CLIENT_ID and BSS_CLIENT_SECRET (and HSM_URL)')
  process.exit(2)
}
const smdUrl = process.env.HSM_URL ?? 'http://127.0.0.1:27779'
const svc = createServiceClient({
  issuer,
  clientId,
  clientSecret,
  targets: { [smdUrl]: { scope: ['smd.read'], audience: 'smd', userToken: 'forward' } },
})
const bss = createBssApp({ auth: { issuer, audience: 'bss' }, smdUrl, svc })
const port = Number(process.env.PORT ?? 27778)
bss.app.listen(port, '127.0.0.1', () => {
  bss.logger.info({ port }, 'bss listening')
})
