/**
 * `pnpm bench`: svcauth against its baselines and peers, each pair measured in the same run and
 * reported as ratios (the machines are noisy; absolute numbers are printed for context only).
 *
 * 1. HTTP throughput and latency (autocannon, loopback; each server in its own process):
 *    bare Express / Koa, @svcauth/express / koa, express-oauth2-jwt-bearer, express-jwt + jwks-rsa,
 *    koa-jwt + jwks-rsa; with one repeated token, and with full verification on every request
 *    (svcauth's cache off, so each request pays what a fresh token costs).
 * 2. Verification throughput in process against a bare `jose.jwtVerify` loop with the same key
 *    (RS256, ES256, EdDSA), cache off and on.
 * 3. Outbound: a cold burst of 1,000 concurrent calls (token requests counted), and the cached
 *    path against a plain undici request to the same local server.
 * 4. Memory: RSS over 1,000,000 verifications of distinct tokens.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cpus, totalmem } from 'node:os'
import process from 'node:process'
import { createServiceClient } from '@svcauth/client'
import { createAuthenticator, type Authenticator } from '@svcauth/core'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import autocannon from 'autocannon'
import { exportJWK, jwtVerify } from 'jose'
import { Agent, request, type Dispatcher } from 'undici'
import type { Contender } from './contenders.js'

const QUICK = process.env.BENCH_QUICK === '1'
const HTTP_SECONDS = QUICK ? 1 : 2
const HTTP_ROUNDS = QUICK ? 3 : 4
const LOOP_MS = QUICK ? 300 : 600
const PAIR_ROUNDS = QUICK ? 3 : 7
/** Verifications in flight: a server verifies many requests' tokens at once (WebCrypto runs them off the main thread). */
const VERIFY_PARALLEL = 8
const MEMORY_TOKENS = QUICK ? 100_000 : 1_000_000
const lines: string[] = []
const say = (line = ''): void => {
  lines.push(line)
  process.stdout.write(`${line}\n`)
}
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits })
const ratio = (n: number) => n.toFixed(2)

// ---------------------------------------------------------------- tokens and keys

interface Keys {
  readonly alg: 'RS256' | 'ES256' | 'EdDSA'
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  readonly kid: string
}

function makeKeys(alg: Keys['alg']): Keys {
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519')
  return { alg, privateKey: pair.privateKey, publicKey: pair.publicKey, kid: `bench-${alg}` }
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

/** Signs with node:crypto directly (fast enough to make a million distinct tokens). */
function mint(keys: Keys, issuer: string, n: number): string {
  const now = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: keys.alg, kid: keys.kid, typ: 'JWT' })}.${b64({
    iss: issuer,
    aud: ['smd'],
    sub: 'bss',
    client_id: 'bss',
    iat: now,
    nbf: now,
    exp: now + 3600,
    jti: `j${n}`,
    scp: ['smd.read'],
  })}`
  const signature =
    keys.alg === 'RS256'
      ? nodeSign('sha256', Buffer.from(input), keys.privateKey)
      : keys.alg === 'ES256'
        ? nodeSign('sha256', Buffer.from(input), {
            key: keys.privateKey,
            dsaEncoding: 'ieee-p1363',
          })
        : nodeSign(null, Buffer.from(input), keys.privateKey)
  return `${input}.${signature.toString('base64url')}`
}

/** A JWKS server for the given keys, on loopback. */
async function jwksServer(keys: readonly Keys[]): Promise<{ url: string; server: Server }> {
  const jwks = {
    keys: await Promise.all(
      keys.map(async (k) => ({
        ...(await exportJWK(k.publicKey)),
        kid: k.kid,
        alg: k.alg,
        use: 'sig',
      })),
    ),
  }
  const body = JSON.stringify(jwks)
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`, server }
}

/** Operations per second of `fn` run back to back, `parallel` in flight, for `ms`. */
async function opsPerSecond(
  fn: (i: number) => Promise<unknown>,
  ms = LOOP_MS,
  parallel = VERIFY_PARALLEL,
): Promise<number> {
  let done = 0
  const deadline = performance.now() + ms
  const started = performance.now()
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (performance.now() < deadline) await fn(done++)
    }),
  )
  return done / ((performance.now() - started) / 1000)
}

/**
 * Runs A and B back to back `rounds` times (alternating which goes first); returns the median
 * of each and the median of the per-round ratios B / A.
 */
async function pair(
  a: () => Promise<number>,
  b: () => Promise<number>,
  rounds = PAIR_ROUNDS,
): Promise<{ a: number; b: number; ratio: number }> {
  const as: number[] = []
  const bs: number[] = []
  await a() // warm-up: JIT, key import, caches
  await b()
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      as.push(await a())
      bs.push(await b())
    } else {
      bs.push(await b())
      as.push(await a())
    }
  }
  return { a: median(as), b: median(bs), ratio: median(bs.map((v, i) => v / (as[i] ?? v))) }
}

// ---------------------------------------------------------------- 1. HTTP

/**
 * With two or more cores, the HTTP section pins each server to CPU 1 and this process (the load
 * generator) to CPU 0, so the two do not steal each other's cycles mid-measurement; the other
 * sections use every core again.
 */
const PIN = cpus().length >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0
const pinSelf = (cpuList: string): void => {
  if (PIN)
    spawnSync('taskset', ['-a', '-p', '-c', cpuList, String(process.pid)], { stdio: 'ignore' })
}

async function startContender(contender: Contender, issuer: TestIssuer, fresh: boolean) {
  const args = ['--import', 'tsx', 'server.ts', contender, issuer.issuer, issuer.jwksUri]
  const child: ChildProcess = spawn(
    PIN ? 'taskset' : process.execPath,
    PIN ? ['-c', '1', process.execPath, ...args] : args,
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

/** The server's own CPU time and request count (see server.ts). */
async function serverStats(url: string): Promise<{ served: number; cpu: number }> {
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

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

const GROUPS: readonly (readonly Contender[])[] = [
  ['bare-express', 'svcauth-express', 'express-oauth2-jwt-bearer', 'express-jwt+jwks-rsa'],
  ['bare-koa', 'svcauth-koa', 'koa-jwt+jwks-rsa'],
]

/**
 * Each framework's contenders run side by side: every round loads each of them for
 * HTTP_SECONDS in turn (rotating the order), and each ratio is taken within its round, against
 * the bare framework, before the median over rounds is reported. Slow drifts of a shared machine
 * then cancel out instead of landing on whichever contender ran during a bad minute.
 */
async function httpSection(): Promise<Record<string, number[]>> {
  say(
    `## 1. HTTP (autocannon, 16 connections, loopback; each server in its own process${PIN ? ', pinned to its own core' : ''}; median of ${HTTP_ROUNDS} rounds)`,
  )
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
  const out: Record<string, number[]> = {}
  say(
    '| contender | token | req/s | ratio to bare | server CPU µs/req | p50 ms | p99 ms | failed |',
  )
  say('|---|---|---:|---:|---:|---:|---:|---:|')
  for (const fresh of [false, true]) {
    const tokens = fresh ? many : repeated
    const mode = fresh ? 'fresh' : 'repeated'
    for (const group of GROUPS) {
      const servers = await Promise.all(group.map((c) => startContender(c, issuer, fresh)))
      try {
        for (const server of servers) await load(server.url, tokens, 1) // keys fetched, JIT warm
        const runs = new Map(
          group.map((c) => [
            c,
            [] as { rps: number; cpu: number; p50: number; p99: number; bad: number }[],
          ]),
        )
        for (let round = 0; round < HTTP_ROUNDS; round++) {
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
        const base = runs.get(group[0] as Contender) ?? []
        for (const contender of group) {
          const rs = runs.get(contender) ?? []
          const ratios = rs.map((r, i) => r.rps / (base[i]?.rps ?? r.rps))
          out[`${contender}/${mode}`] = rs.map((r) => r.rps)
          out[`${contender}/${mode}/cpu`] = rs.map((r) => r.cpu)
          say(
            `| ${contender} | ${fresh ? 'verified every request' : 'one repeated token'} | ${fmt(median(rs.map((r) => r.rps)))} | ${ratio(median(ratios))} | ${fmt(median(rs.map((r) => r.cpu)), 1)} | ${median(rs.map((r) => r.p50))} | ${median(rs.map((r) => r.p99))} | ${rs.reduce((n, r) => n + r.bad, 0)} |`,
          )
        }
      } finally {
        for (const server of servers) server.stop()
      }
    }
  }
  await issuer.close()
  pinSelf(`0-${String(cpus().length - 1)}`)
  return out
}

// ---------------------------------------------------------------- 2. verification

async function verifySection(): Promise<Record<string, number>> {
  say('')
  say(
    `## 2. Verification in process (verifications/s, ${VERIFY_PARALLEL} in flight; median of ${PAIR_ROUNDS} alternating rounds, ratios per round)`,
  )
  say(
    '| alg | bare jose.jwtVerify | svcauth, cache off | ratio | svcauth, cache on, distinct tokens | ratio | svcauth, cache on, repeated token | ratio |',
  )
  say('|---|---:|---:|---:|---:|---:|---:|---:|')
  const out: Record<string, number> = {}
  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
    const keys = makeKeys(alg)
    const jwks = await jwksServer([keys])
    const issuer = 'https://issuer.bench/'
    const tokens = Array.from({ length: 4000 }, (_, i) => mint(keys, issuer, i))
    const options = { issuer, audience: 'smd', jwksUri: jwks.url, algorithms: [alg] }
    const off: Authenticator = createAuthenticator({ ...options, cache: false })
    // A cache smaller than the token cycle: every distinct token misses, is verified and stored
    // (evicting another), which is what a stream of never-repeated tokens costs.
    const on: Authenticator = createAuthenticator({ ...options, cache: { max: 1000 } })
    await off.ready()
    await on.ready()
    const verifyOptions = { issuer, audience: 'smd', algorithms: [alg] }
    const bare = () =>
      opsPerSecond((i) => jwtVerify(tokens[i % tokens.length] ?? '', keys.publicKey, verifyOptions))
    let offset = 0
    const cacheOff = await pair(bare, () =>
      opsPerSecond((i) => off.verify(tokens[i % tokens.length] ?? '')),
    )
    const cacheOnDistinct = await pair(bare, () =>
      opsPerSecond(() => on.verify(tokens[offset++ % tokens.length] ?? '')),
    )
    const one = tokens[0] ?? ''
    const cacheOnRepeated = await pair(
      () => opsPerSecond(() => jwtVerify(one, keys.publicKey, verifyOptions)),
      () => opsPerSecond(() => on.verify(one)),
    )
    out[`${alg}/off`] = cacheOff.ratio
    out[`${alg}/on-distinct`] = cacheOnDistinct.ratio
    out[`${alg}/on-repeated`] = cacheOnRepeated.ratio
    say(
      `| ${alg} | ${fmt(cacheOff.a)} | ${fmt(cacheOff.b)} | ${ratio(cacheOff.ratio)} | ${fmt(cacheOnDistinct.b)} | ${ratio(cacheOnDistinct.ratio)} | ${fmt(cacheOnRepeated.b)} | ${ratio(cacheOnRepeated.ratio)} |`,
    )
    off.close()
    on.close()
    await new Promise((resolve) => jwks.server.close(resolve))
  }
  return out
}

// ---------------------------------------------------------------- 3. outbound

async function outboundSection(): Promise<Record<string, number>> {
  say('')
  say('## 3. Outbound')
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
  const burst = await Promise.all(
    Array.from({ length: 1000 }, async () => {
      const res = await svc.request(`${origin}/x`)
      await res.body.dump()
      return res.statusCode
    }),
  )
  const tokenRequests = issuer.hits.token
  say(
    `- cold burst: 1,000 concurrent calls, ${burst.filter((s) => s === 200).length} answered 200, **${tokenRequests} token request(s)**`,
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
  const cached = await pair(plainLoop(header), clientLoop)
  const bare = await pair(plainLoop({}), clientLoop)
  // The floor for any interceptor on undici 7: a composed no-op interceptor (compose wraps and
  // unwraps the handler, converting response headers twice).
  const noop = new Agent().compose((dispatch) => (opts, handler) => dispatch(opts, handler))
  const floor = await pair(
    plainLoop(header),
    loop(() => request(`${origin}/x`, { headers: header, dispatcher: noop })),
  )
  await noop.close()
  say(
    `- cached path, 16 in flight: plain undici with the same header set by hand ${fmt(cached.a)} req/s, svcauth client ${fmt(cached.b)} req/s: ratio ${ratio(cached.ratio)} (overhead ${((1 - cached.ratio) * 100).toFixed(1)}%)`,
  )
  say(
    `- a no-op interceptor composed on an undici Agent, same header: ratio ${ratio(floor.ratio)} to plain undici (overhead ${((1 - floor.ratio) * 100).toFixed(1)}%): the part of the overhead any undici 7 interceptor pays`,
  )
  say(
    `- the same against plain undici with no Authorization header at all (${fmt(bare.a)} req/s): ratio ${ratio(bare.ratio)}; the difference is the cost of sending and parsing a ${fmt(token.length)}-byte token`,
  )
  await svc.close()
  await new Promise((resolve) => target.close(resolve))
  await issuer.close()
  return { tokenRequests, cachedRatio: cached.ratio }
}

// ---------------------------------------------------------------- 4. memory

async function memorySection(): Promise<Record<string, number>> {
  say('')
  say(
    `## 4. Memory: RSS over ${fmt(MEMORY_TOKENS)} verifications of distinct ES256 tokens (cache on, default size)`,
  )
  const keys = makeKeys('ES256')
  const jwks = await jwksServer([keys])
  const issuer = 'https://issuer.bench/'
  const auth = createAuthenticator({
    issuer,
    audience: 'smd',
    jwksUri: jwks.url,
    algorithms: ['ES256'],
  })
  await auth.ready()
  const gc = (globalThis as { gc?: () => void }).gc
  const samples: { at: number; rss: number; heap: number }[] = []
  const sample = (at: number): void => {
    gc?.()
    const { rss, heapUsed } = process.memoryUsage()
    samples.push({ at, rss: rss / 2 ** 20, heap: heapUsed / 2 ** 20 })
  }
  const step = MEMORY_TOKENS / 10
  const BATCH = 1000
  // Pipelined: the next batch is signed on the main thread while this one verifies (WebCrypto
  // runs verifications on the thread pool).
  let pending: Promise<unknown> = Promise.resolve()
  for (let done = 0; done < MEMORY_TOKENS; done += BATCH) {
    const batch = Array.from({ length: BATCH }, (_, i) => mint(keys, issuer, done + i))
    await pending
    if (done % step === 0 && done > 0) sample(done)
    pending = Promise.all(batch.map((t) => auth.verify(t)))
  }
  await pending
  sample(MEMORY_TOKENS)
  say(`| verifications | ${samples.map((s) => fmt(s.at)).join(' | ')} |`)
  say(`|---|${samples.map(() => '---:').join('|')}|`)
  say(`| RSS MiB | ${samples.map((s) => fmt(s.rss, 1)).join(' | ')} |`)
  say(`| JS heap used MiB | ${samples.map((s) => fmt(s.heap, 1)).join(' | ')} |`)
  // Growth: the last three samples against the three after warm-up (medians, so that one RSS
  // spike from the allocator does not decide the line).
  const early = (key: 'rss' | 'heap') => median(samples.slice(1, 4).map((s) => s[key]))
  const late = (key: 'rss' | 'heap') => median(samples.slice(-3).map((s) => s[key]))
  const growth = late('rss') - early('rss')
  const heapGrowth = late('heap') - early('heap')
  say(
    `- growth, median of the last three samples over the three after warm-up: RSS ${fmt(growth, 1)} MiB, JS heap ${fmt(heapGrowth, 1)} MiB (the verified-token cache holds at most 10,000 entries / 32 MiB)`,
  )
  auth.close()
  await new Promise((resolve) => jwks.server.close(resolve))
  return { growth, heapGrowth }
}

// ---------------------------------------------------------------- main

const started = performance.now()
say(`# svcauth bench — ${new Date().toISOString()}`)
say(
  `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB${QUICK ? ' (BENCH_QUICK)' : ''}`,
)
say('')

/** BENCH_SECTIONS=http,verify,outbound,memory runs only those (the contract table then shows n/a). */
const sections = new Set((process.env.BENCH_SECTIONS ?? 'http,verify,outbound,memory').split(','))
const http = sections.has('http') ? await httpSection() : {}
const verify = sections.has('verify') ? await verifySection() : {}
const outbound = sections.has('outbound') ? await outboundSection() : {}
const memory = sections.has('memory') ? await memorySection() : {}

/** Median over rounds of a's throughput over b's in the same round; undefined when not run. */
const r = (a: string, b: string): number | undefined => {
  const as = http[a]
  const bs = http[b]
  if (as === undefined || bs === undefined) return undefined
  return median(as.map((rps, i) => rps / (bs[i] ?? Number.NaN)))
}
const atLeast = (min: number) => (v: number) => v >= min
const above = (min: number) => (v: number) => v > min
const checks: [string, number | undefined, string, (v: number) => boolean][] = [
  [
    'Express, repeated token: svcauth / bare',
    r('svcauth-express/repeated', 'bare-express/repeated'),
    '≥ 0.95',
    atLeast(0.95),
  ],
  [
    'Koa, repeated token: svcauth / bare',
    r('svcauth-koa/repeated', 'bare-koa/repeated'),
    '≥ 0.95',
    atLeast(0.95),
  ],
  // The same two lines as capacity per core: the bare server's CPU per request over svcauth's.
  [
    'Express, repeated token, by server CPU/request: bare / svcauth',
    r('bare-express/repeated/cpu', 'svcauth-express/repeated/cpu'),
    '≥ 0.95',
    atLeast(0.95),
  ],
  [
    'Koa, repeated token, by server CPU/request: bare / svcauth',
    r('bare-koa/repeated/cpu', 'svcauth-koa/repeated/cpu'),
    '≥ 0.95',
    atLeast(0.95),
  ],
  ...(['RS256', 'ES256', 'EdDSA'] as const).map(
    (alg): [string, number | undefined, string, (v: number) => boolean] => [
      `verification ${alg}, cache off: svcauth / jose`,
      verify[`${alg}/off`],
      '≥ 0.95',
      atLeast(0.95),
    ],
  ),
  [
    'HTTP verified every request: svcauth / express-oauth2-jwt-bearer',
    r('svcauth-express/fresh', 'express-oauth2-jwt-bearer/fresh'),
    '> 1',
    above(1),
  ],
  [
    'HTTP verified every request: svcauth / express-jwt + jwks-rsa',
    r('svcauth-express/fresh', 'express-jwt+jwks-rsa/fresh'),
    '> 1',
    above(1),
  ],
  ['outbound cold burst: token requests', outbound.tokenRequests, '= 1', (v) => v === 1],
  ['outbound cached path: svcauth / plain undici', outbound.cachedRatio, '≥ 0.90', atLeast(0.9)],
  ['memory: RSS growth after warm-up, MiB', memory.growth, '< 64', (v) => v < 64],
  ['memory: JS heap growth after warm-up, MiB', memory.heapGrowth, '< 32', (v) => v < 32],
]
say('')
say('## Contract')
say('| check | measured | target | met |')
say('|---|---:|---|---|')
for (const [name, value, target, met] of checks) {
  if (value === undefined) say(`| ${name} | n/a | ${target} | not run |`)
  else say(`| ${name} | ${ratio(value)} | ${target} | ${met(value) ? 'yes' : '**no**'} |`)
}
say('')
say(`bench finished in ${fmt((performance.now() - started) / 1000, 0)} s`)
process.exit(0)
