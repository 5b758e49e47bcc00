/**
 * Section 3: outbound. A cold burst of 1,000 concurrent calls through a service client (token
 * requests counted at the test issuer: RFC 6749 §4.4 client credentials, one request for all),
 * then the cached path against plain undici `request()` to the same loopback server, in
 * alternating pairs with a ratio per round.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServiceClient } from '@svcauth/client'
import { createTestIssuer } from '@svcauth/testing'
import { Agent, request, type Dispatcher } from 'undici'
import { LOOP_MS, ROUNDS } from './config.js'
import { opsPerSecond, pairRounds } from './loops.js'
import { fmt, fmtRatio, fmtSummary, say } from './report.js'
import { summarize } from './stats.js'

export interface OutboundResults {
  readonly tokenRequests: number
  /** svcauth client ÷ plain undici with the same header, per round. */
  readonly cachedRatios: readonly number[]
}

const overhead = (ratios: readonly number[]) =>
  `${((1 - summarize(ratios).median) * 100).toFixed(1)}%`

export async function outboundSection(): Promise<OutboundResults> {
  say('')
  say(
    `## 3. Outbound (16 calls in flight; ${ROUNDS} alternating rounds per pair; median (p25–p75), ratios within each round)`,
  )
  say('')
  const issuer = await createTestIssuer({ keyCount: 1 })
  issuer.addClient({ clientId: 'bss', secrets: ['s3cret'] })
  const target = createServer((_req, res) => {
    res.end('{"ok":true}')
  })
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(target.address() as AddressInfo).port}`
  const svc = createServiceClient({
    tokenEndpoint: issuer.tokenEndpoint,
    clientId: 'bss',
    clientSecret: 's3cret',
    targets: { [origin]: { scope: ['smd.read'], audience: 'smd' } },
  })
  // The floor for any interceptor on undici 7: a composed no-op interceptor (compose wraps and
  // unwraps the handler, converting response headers twice).
  const noop = new Agent().compose((dispatch) => (opts, handler) => dispatch(opts, handler))
  try {
    const burst = await Promise.all(
      Array.from({ length: 1000 }, async () => {
        const res = await svc.request(`${origin}/x`)
        await res.body.dump()
        return res.statusCode
      }),
    )
    const tokenRequests = issuer.hits.token
    say(
      `- cold burst: 1,000 concurrent calls, ${fmt(burst.filter((s) => s === 200).length)} answered 200, **${tokenRequests} token request(s)**`,
    )
    // The baseline carries the same Authorization header, set by hand: what is measured is the
    // client's machinery (target lookup, cache, interceptor), not the bytes of the token itself.
    const token = await svc.getToken(origin)
    /** Calls per second through `call`, 16 in flight. */
    const loop = (call: () => Promise<Dispatcher.ResponseData>) => () =>
      opsPerSecond(
        async () => {
          const res = await call()
          await res.body.dump()
        },
        LOOP_MS,
        16,
      )
    const header = { authorization: `Bearer ${token}` }
    const plainLoop = (headers: Record<string, string>) =>
      loop(() => request(`${origin}/x`, { headers }))
    const clientLoop = loop(() => svc.request(`${origin}/x`))
    const cached = await pairRounds(plainLoop(header), clientLoop)
    const bare = await pairRounds(plainLoop({}), clientLoop)
    const floor = await pairRounds(
      plainLoop(header),
      loop(() => request(`${origin}/x`, { headers: header, dispatcher: noop })),
    )
    say(
      `- cached path: plain undici with the same header set by hand ${fmtSummary(summarize(cached.a))} req/s, svcauth client ${fmtSummary(summarize(cached.b))} req/s: **ratio ${fmtRatio(summarize(cached.ratios))}** (overhead ${overhead(cached.ratios)})`,
    )
    say(
      `- a no-op interceptor composed on an undici Agent, same header: ratio ${fmtRatio(summarize(floor.ratios))} to plain undici (overhead ${overhead(floor.ratios)}): the part of the overhead any undici 7 interceptor pays`,
    )
    say(
      `- the svcauth client against plain undici with no Authorization header at all (${fmtSummary(summarize(bare.a))} req/s): ratio ${fmtRatio(summarize(bare.ratios))}; the difference from the first line is the cost of sending and parsing a ${fmt(token.length)}-byte token`,
    )
    return { tokenRequests, cachedRatios: cached.ratios }
  } finally {
    await noop.close()
    await svc.close()
    await new Promise((resolve) => target.close(resolve))
    await issuer.close()
  }
}
