/**
 * Section 6: a fleet (issue 21). Three replicas of a service (three authenticators, three service
 * clients, in this process) with and without shared state on a real `redis-server` (started here,
 * on loopback, by the same helper the tests use), against one test issuer:
 * - inbound: 1,000 requests with opaque tokens (Hydra's default), each of 100 tokens used 10 times
 *   and spread over the three replicas, 16 in flight: requests per second, and introspection calls
 *   per 1,000 requests. Fresh tokens every round, so every round starts cold.
 * - outbound: a cold burst of 1,000 calls spread over the three clients: token requests.
 * Each round runs both modes back to back, in alternating order; the ratio is taken per round.
 */
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServiceClient } from '@svcauth/client'
import { createAuthenticator, type Authenticator, type SvcauthStores } from '@svcauth/core'
import { redisStores, type RedisStores } from '@svcauth/redis'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { startRedis } from '../support/redis-server.js'
import { ROUNDS } from './config.js'
import { fmtRatio, fmtSummary, say } from './report.js'
import { perRound, summarize } from './stats.js'

const REQUESTS = 1_000
const TOKENS = 100
const IN_FLIGHT = 16
const silent = { warn: () => undefined, error: () => undefined }

export interface FleetResults {
  /** Per round: requests/s, shared and alone. */
  readonly rpsShared: number[]
  readonly rpsAlone: number[]
  /** Per round: introspection calls per 1,000 requests. */
  readonly callsShared: number[]
  readonly callsAlone: number[]
  /** Token requests for a cold burst of 1,000 calls over three clients. */
  tokensShared: number
  tokensAlone: number
}

function replicas(issuer: TestIssuer, stores: SvcauthStores | undefined): Authenticator[] {
  return Array.from({ length: 3 }, () =>
    createAuthenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      jwksUri: issuer.jwksUri,
      introspection: { endpoint: issuer.introspectionEndpoint },
      logger: silent,
      ...(stores === undefined ? {} : { stores }),
    }),
  )
}

/** 1,000 requests over the replicas; resolves requests/s and introspection calls. */
async function inbound(issuer: TestIssuer, fleet: Authenticator[]) {
  const tokens = Array.from({ length: TOKENS }, (_, i) =>
    issuer.mintOpaqueToken({
      sub: `svc-${i}`,
      clientId: `svc-${i}`,
      scope: ['smd.read'],
      audience: ['smd'],
    }),
  )
  const before = issuer.hits.introspection
  let next = 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let n = next++; n < REQUESTS; n = next++) {
        const token = tokens[n % TOKENS] as string
        const replica = fleet[Math.floor(n / TOKENS) % fleet.length] as Authenticator
        await replica.authenticate({ headers: { authorization: `Bearer ${token}` } })
      }
    }),
  )
  const seconds = (performance.now() - start) / 1000
  return { rps: REQUESTS / seconds, calls: issuer.hits.introspection - before }
}

/** A cold burst of 1,000 calls over three clients; resolves the token requests it cost. */
async function outbound(issuer: TestIssuer, downstream: string, stores: SvcauthStores | undefined) {
  const clients = Array.from({ length: 3 }, () =>
    createServiceClient({
      tokenEndpoint: issuer.tokenEndpoint,
      clientId: 'smd',
      clientSecret: 'smd-bench-secret-0123456789abcdef',
      allowInsecureHttp: true,
      targets: { [downstream]: { scope: ['bss.read'], audience: ['bss'] } },
      logger: silent,
      ...(stores === undefined ? {} : { stores }),
    }),
  )
  const before = issuer.hits.token
  await Promise.all(
    Array.from({ length: REQUESTS }, async (_, i) => {
      const res = await (clients[i % 3] as (typeof clients)[number]).fetch(`${downstream}/x`)
      await res.body?.cancel()
    }),
  )
  const requests = issuer.hits.token - before
  await Promise.all(clients.map((c) => c.close()))
  return requests
}

export async function fleetSection(): Promise<FleetResults> {
  say(
    `## 6. A fleet of three replicas, alone or sharing state on Redis (in process; ${REQUESTS} requests over ${TOKENS} opaque tokens, ${IN_FLIGHT} in flight; ${ROUNDS} rounds, both modes each round)`,
  )
  say('')
  const [redis, issuer] = await Promise.all([startRedis(), createTestIssuer({ keyCount: 1 })])
  issuer.addClient({ clientId: 'smd', secrets: ['smd-bench-secret-0123456789abcdef'] })
  const downstream = createServer((_req, res) => res.end('{}'))
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve))
  const downstreamUrl = `http://127.0.0.1:${(downstream.address() as AddressInfo).port}`
  const stores: RedisStores = redisStores({
    url: redis.url,
    encryptionKey: randomBytes(32),
    prefix: 'bench:',
    logger: silent,
  })
  await stores.ready()
  const results: FleetResults = {
    rpsShared: [],
    rpsAlone: [],
    callsShared: [],
    callsAlone: [],
    tokensShared: 0,
    tokensAlone: 0,
  }
  try {
    const shared = replicas(issuer, stores)
    const alone = replicas(issuer, undefined)
    await inbound(issuer, shared) // warm-up
    await inbound(issuer, alone)
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ['shared', 'alone'] : ['alone', 'shared']
      for (const mode of order) {
        const r = await inbound(issuer, mode === 'shared' ? shared : alone)
        if (mode === 'shared') {
          results.rpsShared.push(r.rps)
          results.callsShared.push(r.calls)
        } else {
          results.rpsAlone.push(r.rps)
          results.callsAlone.push(r.calls)
        }
      }
    }
    for (const a of [...shared, ...alone]) a.close()
    results.tokensShared = await outbound(issuer, downstreamUrl, stores)
    results.tokensAlone = await outbound(issuer, downstreamUrl, undefined)
  } finally {
    await stores.close()
    downstream.close()
    await issuer.close()
    await redis.stop()
  }
  say(
    '| replicas | requests/s | introspection calls per 1,000 requests | token requests, cold burst of 1,000 calls |',
  )
  say('|---|---:|---:|---:|')
  say(
    `| sharing on Redis | ${fmtSummary(summarize(results.rpsShared))} | ${fmtSummary(summarize(results.callsShared))} | ${results.tokensShared} |`,
  )
  say(
    `| alone | ${fmtSummary(summarize(results.rpsAlone))} | ${fmtSummary(summarize(results.callsAlone))} | ${results.tokensAlone} |`,
  )
  say('')
  say(
    `Requests/s, sharing ÷ alone, per round: ${fmtRatio(summarize(perRound(results.rpsShared, results.rpsAlone)))}.`,
  )
  say('')
  return results
}
