/**
 * An SMD-style inventory service (OpenCHAMI's State Management Database, `/hsm/v2`), reduced to a
 * few routes to show svcauth protecting it. Differences from real SMD: real SMD leaves
 * `GET /State/Components` public and enforces no scopes; here it requires `smd.read` to show guards.
 */
import { authenticate, requireScopes, type AuthenticateOptions } from '@svcauth/express'
import express, { type Express } from 'express'

const components = [
  {
    ID: 'x3000c0s19b1n0',
    Type: 'Node',
    State: 'Ready',
    Flag: 'OK',
    Enabled: true,
    Role: 'Compute',
    NID: 1,
  },
  {
    ID: 'x3000c0s19b2n0',
    Type: 'Node',
    State: 'Ready',
    Flag: 'OK',
    Enabled: true,
    Role: 'Compute',
    NID: 2,
  },
]

/** Builds the service; `close()` stops the authenticator's background key refresh. */
export function createInventoryApp(auth: AuthenticateOptions): { app: Express; close: () => void } {
  const app = express()
  app.get('/hsm/v2/service/ready', (_req, res) => {
    res.json({ code: 0, message: 'HSM is healthy' })
  })
  const authn = authenticate(auth)
  app.use('/hsm/v2', authn)
  app.get('/hsm/v2/State/Components', requireScopes('smd.read'), (req, res) => {
    res.json({ Components: components, caller: req.auth?.actorId })
  })
  app.post('/hsm/v2/State/Components', requireScopes('smd.write'), (_req, res) => {
    res.status(204).end()
  })
  return {
    app,
    close: () => {
      authn.authenticator.close()
    },
  }
}
