/**
 * `pnpm bench`: svcauth against its baselines, its peers and the crypto limit, each comparison
 * measured side by side in the same run and reported as ratios (the machines are noisy; absolute
 * numbers are printed for context only). The contract table at the end holds issue 17's targets.
 *
 * Method (issue 17, item 4):
 * - Every contender is measured in at least 8 paired rounds in a full run (3 with BENCH_QUICK=1,
 *   a smoke run). HTTP: every round loads each contender of a framework group in turn, starting
 *   one further along each round. In process (verification, outbound): a contender and its
 *   baseline alternate, A B / B A, after one warm-up of each.
 * - A ratio is always taken within a round, from two figures measured next to each other; the
 *   median over rounds is reported with its interquartile range (p25–p75, linear interpolation),
 *   for every figure and every ratio: req/s and server CPU µs per request, verifications/s, calls/s.
 * - Ratios read "higher is better": by req/s contender ÷ baseline, by server CPU per request
 *   baseline ÷ contender. The one exception is the Koa fresh-token line, whose target is stated
 *   as a cost (svcauth CPU/request ÷ bare Koa's ≤ 2.5).
 *
 * Sections (BENCH_SECTIONS=http,verify,outbound,memory,dpop,fleet runs only those; the contract then shows
 * the others as not run):
 * 1. HTTP (`http-section.ts`, servers in `server.ts`): bare Express and Koa, @svcauth/express and
 *    koa, express-oauth2-jwt-bearer, express-jwt + jwks-rsa, koa-jwt + jwks-rsa; with one repeated
 *    token, and with full verification on every request (svcauth's cache off).
 * 2. Verification in process on one core (`verify-section.ts`): the raw `node:crypto.verify` loop
 *    as the limit, `jose.jwtVerify`, and svcauth with the cache off and on (RS256, ES256, EdDSA).
 * 3. Outbound (`outbound-section.ts`): a cold burst of 1,000 calls (token requests counted), and
 *    the cached path against plain undici.
 * 4. Memory (`memory-section.ts`): RSS and heap over 1,000,000 verifications of distinct tokens.
 * 5. DPoP (`dpop-section.ts`, issue 18): a DPoP-bound token with a fresh proof every request
 *    against one repeated Bearer token, on both adapters.
 * 6. Fleet (`fleet-section.ts`, issue 21): three replicas alone or sharing state on a real Redis:
 *    introspection-backed requests/s and authorization-server requests per 1,000 requests.
 *
 * The report goes to stdout and, as markdown, to `test/bench/results/<start time>.md`.
 */
import { cpus, totalmem } from 'node:os'
import { dpopSection } from './dpop-section.js'
import { fleetSection } from './fleet-section.js'
import process from 'node:process'
import { QUICK } from './config.js'
import { httpSection, type HttpRuns } from './http-section.js'
import { memorySection, type MemoryResults } from './memory-section.js'
import { outboundSection, type OutboundResults } from './outbound-section.js'
import { fmt, fmtRatio, say, writeReport } from './report.js'
import { perRound, summarize } from './stats.js'
import { verifySection, type VerifyRatios } from './verify-section.js'

const startedAt = new Date()
const started = performance.now()
say(`# svcauth bench — ${startedAt.toISOString()}`)
say('')
say(
  `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB${QUICK ? ' (BENCH_QUICK: a smoke run, not a measurement)' : ''}`,
)
say('')

const sections = new Set(
  (process.env.BENCH_SECTIONS ?? 'http,verify,outbound,memory,dpop,fleet').split(','),
)
const timings: string[] = []
async function timed<T>(name: string, section: () => Promise<T>): Promise<T | undefined> {
  if (!sections.has(name)) return undefined
  const t0 = performance.now()
  const result = await section()
  timings.push(`${name} ${fmt((performance.now() - t0) / 1000)} s`)
  return result
}
const http: HttpRuns = (await timed('http', httpSection)) ?? {}
const verify: VerifyRatios = (await timed('verify', verifySection)) ?? {}
const outbound: OutboundResults | undefined = await timed('outbound', outboundSection)
const memory: MemoryResults | undefined = await timed('memory', memorySection)
await timed('dpop', dpopSection)
await timed('fleet', fleetSection)

/** Per-round ratio of two HTTP series (see HttpRuns for the keys); undefined when not run. */
const within = (a: string, b: string): number[] | undefined => {
  const as = http[a]
  const bs = http[b]
  return as === undefined || bs === undefined ? undefined : perRound(as, bs)
}

interface Check {
  readonly name: string
  /** Per-round ratios, or one figure; undefined when the section did not run. */
  readonly values: readonly number[] | undefined
  readonly target: string
  readonly met: (median: number) => boolean
  /** Printed as a ratio with its IQR (default), or as a plain figure with `digits` decimals. */
  readonly digits?: number
}

const atLeast = (min: number) => (v: number) => v >= min
const atMost = (max: number) => (v: number) => v <= max
const one = (v: number | undefined) => (v === undefined ? undefined : [v])

const checks: Check[] = [
  ...(['express', 'koa'] as const).flatMap((fw): Check[] => {
    const name = fw === 'express' ? 'Express' : 'Koa'
    return [
      {
        name: `${name}, one repeated token, by server CPU/request: bare ÷ svcauth`,
        values: within(`bare-${fw}/repeated/cpu`, `svcauth-${fw}/repeated/cpu`),
        target: '≥ 0.97',
        met: atLeast(0.97),
      },
      {
        name: `${name}, one repeated token, by req/s: svcauth ÷ bare`,
        values: within(`svcauth-${fw}/repeated`, `bare-${fw}/repeated`),
        target: '≥ 0.95',
        met: atLeast(0.95),
      },
    ]
  }),
  ...(['RS256', 'ES256', 'EdDSA'] as const).map((alg): Check => ({
    name: `verification ${alg}, cache off, one core: svcauth ÷ raw crypto.verify`,
    values: verify[`${alg}/off/limit`],
    target: '≥ 0.80',
    met: atLeast(0.8),
  })),
  {
    name: 'Express, verified every request, by req/s: svcauth ÷ express-oauth2-jwt-bearer',
    values: within('svcauth-express/fresh', 'express-oauth2-jwt-bearer/fresh'),
    target: '≥ 1.5',
    met: atLeast(1.5),
  },
  {
    name: 'Express, verified every request, by server CPU/request: express-oauth2-jwt-bearer ÷ svcauth',
    values: within('express-oauth2-jwt-bearer/fresh/cpu', 'svcauth-express/fresh/cpu'),
    target: '≥ 1.5',
    met: atLeast(1.5),
  },
  {
    name: 'Koa, verified every request, server CPU/request: svcauth ÷ bare Koa',
    values: within('svcauth-koa/fresh/cpu', 'bare-koa/fresh/cpu'),
    target: '≤ 2.5',
    met: atMost(2.5),
  },
  {
    name: 'outbound cached path: svcauth ÷ plain undici',
    values: outbound?.cachedRatios,
    target: '≥ 0.95',
    met: atLeast(0.95),
  },
  {
    name: 'outbound cold burst of 1,000 calls: token requests',
    values: one(outbound?.tokenRequests),
    target: '= 1',
    met: (v) => v === 1,
    digits: 0,
  },
  {
    name: 'memory: RSS growth after warm-up, MiB',
    values: one(memory?.growth),
    target: '< 64',
    met: (v) => v < 64,
    digits: 1,
  },
  {
    name: 'memory: JS heap growth after warm-up, MiB',
    values: one(memory?.heapGrowth),
    target: '< 32',
    met: (v) => v < 32,
    digits: 1,
  },
]

say('')
say('## Contract')
say('')
say('Each line is judged on its median; the IQR shows how far the rounds agreed.')
say('')
say('| check | median (p25–p75) | target | met |')
say('|---|---:|---|---|')
for (const { name, values, target, met, digits } of checks) {
  if (values === undefined) {
    say(`| ${name} | n/a | ${target} | not run |`)
    continue
  }
  const s = summarize(values)
  const shown = digits === undefined ? fmtRatio(s) : fmt(s.median, digits)
  say(`| ${name} | ${shown} | ${target} | ${met(s.median) ? 'yes' : '**no**'} |`)
}
say('')
say(
  `bench finished in ${fmt((performance.now() - started) / 1000)} s (${timings.join(', ') || 'no section run'})`,
)
const file = await writeReport(startedAt)
process.stdout.write(`report written to ${file}\n`)
process.exit(0)
