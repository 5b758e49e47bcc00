/**
 * Runs the SMD-style service on its own: `SMD_ISSUER=https://hydra.example/ pnpm start`.
 * Listens on 127.0.0.1:27779 (SMD's port) unless `PORT` says otherwise.
 */
import process from 'node:process'
import { createSmdApp } from './app.js'

const issuer = process.env.SMD_ISSUER
if (issuer === undefined) {
  console.error(
    'set SMD_ISSUER to the authorization server issuer (and SMD_JWKS_URL if it has no discovery)',
  )
  process.exit(2)
}
const smd = createSmdApp({
  auth: {
    issuer,
    audience: process.env.SMD_AUDIENCE ?? 'smd',
    ...(process.env.SMD_JWKS_URL === undefined ? {} : { jwksUri: process.env.SMD_JWKS_URL }),
  },
})
const port = Number(process.env.PORT ?? 27779)
smd.app.listen(port, '127.0.0.1', () => {
  smd.logger.info({ port }, 'smd listening')
})
