/**
 * One replica of an SMD-like service in a fleet (issue 21), as its own process, sharing state with
 * its siblings through one Redis: `replica.ts '<config JSON>'`. It answers
 *   GET  /read      authenticate (JWTs, opaque tokens by introspection, DPoP) + requireScopes
 *   POST /revoke    revokes `{ tokenId, expiresAt }` of the issuer for the whole fleet
 *   GET  /call      calls the downstream service with a client-credentials token
 * and prints `listening <port>` once it serves. Runs until killed.
 */
import type { AddressInfo } from 'node:net'
import process from 'node:process'
import { createServiceClient } from '@svcauth/client'
import { authenticate, requireScopes } from '@svcauth/express'
import { redisStores } from '@svcauth/redis'
import express from 'express'

export interface ReplicaConfig {
  readonly issuer: string
  readonly jwksUri: string
  readonly introspectionEndpoint: string
  readonly tokenEndpoint: string
  readonly redisUrl: string
  readonly encryptionKey: string
  readonly prefix: string
  /** The origin clients address the fleet by (behind its load balancer): DPoP proofs name it. */
  readonly publicOrigin: string
  readonly downstream: string
  readonly clientSecret: string
}

const config = JSON.parse(process.argv[2] ?? '{}') as ReplicaConfig
const lines: unknown[] = []
const logger = {
  warn: (obj: Record<string, unknown>) => lines.push(obj),
  error: (obj: Record<string, unknown>) => lines.push(obj),
}
const stores = redisStores({
  url: config.redisUrl,
  encryptionKey: config.encryptionKey,
  prefix: config.prefix,
  // Generous for a loaded test machine; production keeps the short default.
  timeout: 500,
  logger,
})
const auth = authenticate({
  issuer: config.issuer,
  audience: 'smd',
  jwksUri: config.jwksUri,
  introspection: { endpoint: config.introspectionEndpoint, timeout: 1000 },
  dpop: true,
  publicOrigin: config.publicOrigin,
  stores,
  logger,
})
const bss = createServiceClient({
  issuer: config.issuer,
  tokenEndpoint: config.tokenEndpoint,
  clientId: 'smd',
  clientSecret: config.clientSecret,
  allowInsecureHttp: true,
  targets: { [config.downstream]: { scope: ['bss.read'], audience: ['bss'] } },
  stores,
  logger,
})

const app = express()
app.use(express.json())
app.get('/read', auth, requireScopes('smd.read'), (req, res) => {
  res.json({ clientId: req.auth?.clientId ?? null, pid: process.pid })
})
app.post('/revoke', (req, res) => {
  const { tokenId, expiresAt } = req.body as { tokenId: string; expiresAt: number }
  stores.revoke({ issuer: config.issuer, tokenId, expiresAt }).then(
    () => res.status(204).end(),
    (err: unknown) => res.status(500).json({ error: String(err) }),
  )
})
app.get('/call', (_req, res) => {
  bss.fetch(`${config.downstream}/bss`).then(
    async (answer) => {
      res.status(answer.status).json(await answer.json())
    },
    (err: unknown) => res.status(502).json({ error: (err as Error).name }),
  )
})
app.get('/logs', (_req, res) => {
  res.json(lines)
})

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`)
})
