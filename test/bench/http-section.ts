/**
 * Section 1: HTTP throughput and server CPU per request (autocannon, 16 connections, loopback;
 * each server its own process, see server.ts). The contenders of one framework run in rotation:
 * every round loads each of them for HTTP_SECONDS in turn, starting one further along each round,
 * and every ratio is taken within its round before the median and IQR over rounds are printed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import process from 'node:process'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import autocannon from 'autocannon'
import { request } from 'undici'
import { HTTP_SECONDS, ROUNDS } from './config.js'
import type { Contender } from './contenders.js'
import { PIN_HTTP, pinSelf, unpinSelf } from './pin.js'
import { fmt, fmtRatio, fmtSummary, say } from './report.js'
import { median, perRound, summarize } from './stats.js'

/**
 * Per-round figures, keyed `<contender>/<mode>` (req/s) and `<contender>/<mode>/cpu` (server CPU
 * µs per request); mode is `repeated` or `fresh`. Index i of every array is round i.
 */
export type HttpRuns = Record<string, number[]>

/**
 * `BENCH_CONTENDERS=a,b` keeps only those (each group keeps its bare framework, the baseline) and
 * `BENCH_MODES=repeated` or `fresh` one token mode: for A/B runs while working on one line.
 */
const only = process.env.BENCH_CONTENDERS?.split(',')
const GROUPS: readonly (readonly Contender[])[] = (
  [
    ['bare-express', 'svcauth-express', 'express-oauth2-jwt-bearer', 'express-jwt+jwks-rsa'],
    ['bare-koa', 'svcauth-koa', 'koa-jwt+jwks-rsa'],
  ] as const
)
  .map((group) => group.filter((c, i) => i === 0 || only === undefined || only.includes(c)))
  .filter((group) => group.length > 1)
const MODES = (process.env.BENCH_MODES ?? 'repeated,fresh').split(',')

/** Informative lines: svcauth against each peer, within each round. */
const PEERS: readonly (readonly [Contender, Contender])[] = [
  ['svcauth-express', 'express-oauth2-jwt-bearer'],
  ['svcauth-express', 'express-jwt+jwks-rsa'],
  ['svcauth-koa', 'koa-jwt+jwks-rsa'],
]

export async function startContender(contender: Contender, issuer: TestIssuer, fresh: boolean) {
  const args = ['--import', 'tsx', 'server.ts', contender, issuer.issuer, issuer.jwksUri]
  // With two cores, the server gets CPU 1 and this process (the load generator) CPU 0, so the
  // two do not steal each other's cycles mid-measurement.
  const child: ChildProcess = spawn(
    PIN_HTTP ? 'taskset' : process.execPath,
    PIN_HTTP ? ['-c', '1', process.execPath, ...args] : args,
    {
      cwd: new URL('.', import.meta.url),
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, BENCH_FRESH: fresh ? '1' : '0', NODE_ENV: 'production' },
    },
  )
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => {
      resolve(Number(chunk.toString().trim()))
    })
    child.once('exit', (code) => {
      reject(new Error(`${contender} exited with ${String(code)}`))
    })
  })
  const origin = `http://127.0.0.1:${port}`
  return { contender, url: `${origin}/read`, stats: `${origin}/__stats`, stop: () => child.kill() }
}

/** The server's own CPU time (µs) and request count (see server.ts). */
export async function serverStats(url: string): Promise<{ served: number; cpu: number }> {
  const res = await request(url)
  const body = (await res.body.json()) as { served: number; cpu: { user: number; system: number } }
  return { served: body.served, cpu: body.cpu.user + body.cpu.system }
}

async function load(url: string, tokens: readonly string[], seconds: number) {
  let i = 0
  const result = await autocannon({
    url,
    connections: 16,
    duration: seconds,
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          headers: { ...req.headers, authorization: `Bearer ${tokens[i++ % tokens.length] ?? ''}` },
        }),
      },
    ],
  })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    bad: result.errors + result.timeouts + result.non2xx,
  }
}

interface Round {
  readonly rps: number
  readonly cpu: number
  readonly p50: number
  readonly p99: number
  readonly bad: number
}

/** Loads every contender of `group` once per round, in rotating order. */
async function rotate(
  group: readonly Contender[],
  issuer: TestIssuer,
  fresh: boolean,
  tokens: readonly string[],
): Promise<Map<Contender, Round[]>> {
  const servers = await Promise.all(group.map((c) => startContender(c, issuer, fresh)))
  try {
    for (const server of servers) await load(server.url, tokens, 1) // keys fetched, JIT warm
    const runs = new Map(group.map((c) => [c, [] as Round[]]))
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < servers.length; k++) {
        const server = servers[(round + k) % servers.length]
        if (server === undefined) continue
        const before = await serverStats(server.stats)
        const r = await load(server.url, tokens, HTTP_SECONDS)
        const after = await serverStats(server.stats)
        const cpu = (after.cpu - before.cpu) / Math.max(1, after.served - before.served)
        runs.get(server.contender)?.push({ ...r, cpu })
      }
    }
    return runs
  } finally {
    for (const server of servers) server.stop()
  }
}

export async function httpSection(): Promise<HttpRuns> {
  say(
    `## 1. HTTP (autocannon, 16 connections, loopback; each server in its own process${PIN_HTTP ? ', pinned to its own core' : ''}; ${ROUNDS} rotated rounds of ${HTTP_SECONDS} s per contender; median (p25–p75) over rounds)`,
  )
  say('')
  say(
    'Ratios are taken within each round against the bare framework, so that higher is better in both: by req/s, contender ÷ bare; by server CPU per request, bare ÷ contender.',
  )
  say('')
  pinSelf('0')
  const issuer = await createTestIssuer({ keyCount: 1 })
  // Both scope forms: express-oauth2-jwt-bearer reads `scope`, the others `scp` (Hydra's).
  const mintOne = (clientId: string) =>
    issuer.mintClientToken({
      clientId,
      scope: ['smd.read'],
      audience: ['smd'],
      claims: { scope: 'smd.read' },
    })
  const repeated = [await mintOne('bss')]
  const many = await Promise.all(Array.from({ length: 2000 }, (_, i) => mintOne(`svc-${i}`)))
  const out: HttpRuns = {}
  say(
    '| contender | token | req/s | ÷ bare, by req/s | server CPU µs/req | ÷ bare, by CPU/req | p50 ms | p99 ms | failed |',
  )
  say('|---|---|---:|---:|---:|---:|---:|---:|---:|')
  try {
    for (const fresh of [false, true]) {
      if (!MODES.includes(fresh ? 'fresh' : 'repeated')) continue
      const tokens = fresh ? many : repeated
      const mode = fresh ? 'fresh' : 'repeated'
      for (const group of GROUPS) {
        const runs = await rotate(group, issuer, fresh, tokens)
        const base = runs.get(group[0] as Contender) ?? []
        for (const contender of group) {
          const rs = runs.get(contender) ?? []
          const rps = rs.map((r) => r.rps)
          const cpu = rs.map((r) => r.cpu)
          out[`${contender}/${mode}`] = rps
          out[`${contender}/${mode}/cpu`] = cpu
          const byRps = perRound(
            rps,
            base.map((r) => r.rps),
          )
          const byCpu = perRound(
            base.map((r) => r.cpu),
            cpu,
          )
          say(
            `| ${contender} | ${fresh ? 'verified every request' : 'one repeated token'} | ${fmtSummary(summarize(rps))} | ${fmtRatio(summarize(byRps))} | ${fmtSummary(summarize(cpu), 1)} | ${fmtRatio(summarize(byCpu))} | ${fmt(median(rs.map((r) => r.p50)), 1)} | ${fmt(median(rs.map((r) => r.p99)), 1)} | ${rs.reduce((n, r) => n + r.bad, 0)} |`,
          )
        }
      }
    }
  } finally {
    await issuer.close()
    unpinSelf()
  }
  say('')
  say('svcauth against its peers (informative; ratios within each round, higher favours svcauth):')
  say('')
  say('| svcauth | peer | token | by req/s: svcauth ÷ peer | by CPU/req: peer ÷ svcauth |')
  say('|---|---|---|---:|---:|')
  for (const mode of ['repeated', 'fresh'] as const) {
    for (const [ours, peer] of PEERS) {
      if (out[`${ours}/${mode}`] === undefined || out[`${peer}/${mode}`] === undefined) continue
      const byRps = perRound(out[`${ours}/${mode}`] ?? [], out[`${peer}/${mode}`] ?? [])
      const byCpu = perRound(out[`${peer}/${mode}/cpu`] ?? [], out[`${ours}/${mode}/cpu`] ?? [])
      say(
        `| ${ours} | ${peer} | ${mode === 'fresh' ? 'verified every request' : 'one repeated token'} | ${fmtRatio(summarize(byRps))} | ${fmtRatio(summarize(byCpu))} |`,
      )
    }
  }
  return out
}
