/**
 * Section 5: DPoP (issue 18). svcauth with `dpop` on, sent a DPoP-bound token and a fresh ES256
 * proof on every request, against the same adapter sent one repeated Bearer token (the cached
 * path): the proof cannot be cached, so what DPoP costs a request is its checks, mostly one ES256
 * signature verification (plus a replay-store insert and the `ath` hash). The two run in rotation,
 * like section 1, and each ratio is taken within its round.
 *
 * The load generator signs the proofs itself, synchronously with `node:crypto` as each request is
 * set up (a unique `jti` each), on its own core; the token's cached verification is shared.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import process from 'node:process'
import { createTestIssuer } from '@svcauth/testing'
import { calculateJwkThumbprint, type JWK } from 'jose'
import autocannon from 'autocannon'
import { HTTP_SECONDS, ROUNDS } from './config.js'
import type { Contender } from './contenders.js'
import { serverStats, startContender } from './http-section.js'
import { PIN_HTTP, pinSelf, unpinSelf } from './pin.js'
import { fmtRatio, fmtSummary, say } from './report.js'
import { perRound, summarize } from './stats.js'

/** Per-round figures: `<contender>` (req/s) and `<contender>/cpu` (server CPU µs per request). */
export type DpopRuns = Record<string, number[]>

const PAIRS: readonly (readonly [Contender, Contender])[] = [
  ['svcauth-express', 'svcauth-express-dpop'],
  ['svcauth-koa', 'svcauth-koa-dpop'],
]

/** A client key and a synchronous proof builder for GET on one URL with one token. */
export function prover(privateKey: KeyObject, jwk: JWK, url: string, token: string): () => string {
  const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk })).toString(
    'base64url',
  )
  const ath = createHash('sha256').update(token).digest('base64url')
  const prefix = randomBytes(9).toString('base64url')
  let n = 0
  return () => {
    const claims = {
      jti: `${prefix}${(n++).toString(36)}`,
      htm: 'GET',
      htu: url,
      iat: Math.floor(Date.now() / 1000),
      ath,
    }
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
    const signature = sign('sha256', Buffer.from(input), {
      key: privateKey,
      dsaEncoding: 'ieee-p1363',
    })
    return `${input}.${signature.toString('base64url')}`
  }
}

async function load(url: string, headers: () => Record<string, string>, seconds: number) {
  const result = await autocannon({
    url,
    connections: 16,
    duration: seconds,
    requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...headers() } }) }],
  })
  return { rps: result.requests.average, bad: result.errors + result.timeouts + result.non2xx }
}

export async function dpopSection(): Promise<DpopRuns> {
  say(
    `## 5. DPoP (autocannon, 16 connections; a DPoP-bound token with a fresh ES256 proof every request vs one repeated Bearer token; ${ROUNDS} rotated rounds of ${HTTP_SECONDS} s${PIN_HTTP ? ', server pinned to its own core' : ''})`,
  )
  say('')
  pinSelf('0')
  const issuer = await createTestIssuer({ keyCount: 1 })
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = publicKey.export({ format: 'jwk' }) as JWK
  const jkt = await calculateJwkThumbprint(jwk, 'sha256')
  const mint = (dpop: boolean) =>
    issuer.mintClientToken({
      clientId: 'bss',
      scope: ['smd.read'],
      audience: ['smd'],
      ...(dpop ? { dpop: { jkt } } : {}),
    })
  const bearer = await mint(false)
  const bound = await mint(true)
  const out: DpopRuns = {}
  say('| contender | request | req/s | server CPU µs/req | failed |')
  say('|---|---|---:|---:|---:|')
  try {
    for (const pair of PAIRS) {
      const servers = await Promise.all(pair.map((c) => startContender(c, issuer, false)))
      try {
        const headers = servers.map((server) => {
          if (!server.contender.endsWith('-dpop')) {
            return () => ({ authorization: `Bearer ${bearer}` })
          }
          const proof = prover(privateKey, jwk, server.url, bound)
          return () => ({ authorization: `DPoP ${bound}`, dpop: proof() })
        })
        for (const [i, server] of servers.entries()) {
          const warm = await load(server.url, headers[i] as () => Record<string, string>, 1)
          if (warm.bad > 0) throw new Error(`${server.contender} refused ${warm.bad} requests`)
        }
        const runs = pair.map(() => ({ rps: [] as number[], cpu: [] as number[], bad: 0 }))
        for (let round = 0; round < ROUNDS; round++) {
          for (let k = 0; k < servers.length; k++) {
            const i = (round + k) % servers.length
            const server = servers[i]
            const run = runs[i]
            if (server === undefined || run === undefined) continue
            const before = await serverStats(server.stats)
            const r = await load(
              server.url,
              headers[i] as () => Record<string, string>,
              HTTP_SECONDS,
            )
            const after = await serverStats(server.stats)
            run.rps.push(r.rps)
            run.cpu.push((after.cpu - before.cpu) / Math.max(1, after.served - before.served))
            run.bad += r.bad
          }
        }
        for (const [i, contender] of pair.entries()) {
          const run = runs[i] ?? { rps: [], cpu: [], bad: 0 }
          out[contender] = run.rps
          out[`${contender}/cpu`] = run.cpu
          say(
            `| ${contender} | ${contender.endsWith('-dpop') ? 'DPoP token + fresh proof' : 'one repeated Bearer token'} | ${fmtSummary(summarize(run.rps))} | ${fmtSummary(summarize(run.cpu), 1)} | ${run.bad} |`,
          )
        }
      } finally {
        for (const server of servers) server.stop()
      }
    }
  } finally {
    await issuer.close()
    unpinSelf()
  }
  say('')
  say('| adapter | DPoP ÷ Bearer, by req/s | Bearer ÷ DPoP, by CPU/req |')
  say('|---|---:|---:|')
  for (const [plain, dpop] of PAIRS) {
    const byRps = perRound(out[dpop] ?? [], out[plain] ?? [])
    const byCpu = perRound(out[`${plain}/cpu`] ?? [], out[`${dpop}/cpu`] ?? [])
    say(`| ${plain} | ${fmtRatio(summarize(byRps))} | ${fmtRatio(summarize(byCpu))} |`)
  }
  say('')
  if (process.env.BENCH_QUICK === '1') say('(BENCH_QUICK: a smoke run, not a measurement)')
  return out
}
