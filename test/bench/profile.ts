/**
 * `pnpm --filter @svcauth/bench profile <contender> [repeated|fresh] [seconds]`: one bench
 * contender's server (server.ts, pinned to CPU 1 like the HTTP section) under autocannon load with
 * `--cpu-prof`, then where its CPU time went, in µs per request, by package and by function. This
 * is how docs/performance.md's breakdowns were made (issue 17, item 1): run it for a bare framework
 * and for svcauth's adapter, and compare.
 *
 * FOCUS=<regex> also lists the functions whose name or file matches; CALLERS=<name> the call
 * stacks (6 frames) that lead to a function. The figures include the profiler's own overhead, so
 * compare contenders profiled the same way, not with the bench's CPU column.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import process from 'node:process'
import { createTestIssuer } from '@svcauth/testing'
import autocannon from 'autocannon'
import { generateKeyPairSync } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { CONTENDERS, type Contender } from './contenders.js'
import { prover } from './dpop-section.js'

interface ProfileNode {
  readonly id: number
  readonly callFrame: {
    readonly functionName: string
    readonly url: string
    readonly lineNumber: number
  }
  readonly hitCount: number
  readonly children?: readonly number[]
}
interface Profile {
  readonly nodes: readonly ProfileNode[]
  readonly startTime: number
  readonly endTime: number
}

const [name = 'svcauth-express', mode = 'repeated', seconds = '8'] = process.argv.slice(2)
if (!(CONTENDERS as readonly string[]).includes(name)) {
  throw new TypeError(`profile: contender must be one of ${CONTENDERS.join(', ')}`)
}
const contender = name as Contender
const fresh = mode === 'fresh'

const issuer = await createTestIssuer({ keyCount: 1 })
const mintOne = (clientId: string) =>
  issuer.mintClientToken({
    clientId,
    scope: ['smd.read'],
    audience: ['smd'],
    claims: { scope: 'smd.read' },
  })
const tokens = fresh
  ? await Promise.all(Array.from({ length: 2000 }, (_, i) => mintOne(`svc-${i}`)))
  : [await mintOne('bss')]

// The -dpop contenders get a DPoP-bound token and a fresh proof per request, as in section 5.
const dpopKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const dpopJwk = dpopKey.publicKey.export({ format: 'jwk' }) as JWK
const bound = await issuer.mintClientToken({
  clientId: 'bss',
  scope: ['smd.read'],
  audience: ['smd'],
  dpop: { jkt: await calculateJwkThumbprint(dpopJwk, 'sha256') },
})

const dir = mkdtempSync(join(tmpdir(), 'svcauth-profile-'))
const args = ['--cpu-prof', '--cpu-prof-dir', dir, '--import', 'tsx', 'server.ts', contender]
const child = spawn(
  'taskset',
  ['-c', '1', process.execPath, ...args, issuer.issuer, issuer.jwksUri],
  {
    cwd: new URL('.', import.meta.url),
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_FRESH: fresh ? '1' : '0', NODE_ENV: 'production' },
  },
)
const port = await new Promise<number>((resolve) => {
  child.stdout.once('data', (chunk: Buffer) => {
    resolve(Number(chunk.toString().trim()))
  })
})

let next = 0
const url = `http://127.0.0.1:${String(port)}/read`
const proof = prover(dpopKey.privateKey, dpopJwk, url, bound)
const headers = contender.endsWith('-dpop')
  ? () => ({ authorization: `DPoP ${bound}`, dpop: proof() })
  : () => ({ authorization: `Bearer ${tokens[next++ % tokens.length] ?? ''}` })
const load = (duration: number) =>
  autocannon({
    url,
    connections: 16,
    duration,
    requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...headers() } }) }],
  })
const warm = await load(2)
const measured = await load(Number(seconds))
const served = warm.requests.total + measured.requests.total
child.kill('SIGTERM')
await new Promise((resolve) => child.once('exit', resolve))
await issuer.close()

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
if (file === undefined) throw new Error('profile: the server wrote no profile')
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile
rmSync(dir, { recursive: true })

const samples = profile.nodes.reduce((n, node) => n + node.hitCount, 0)
const interval = (profile.endTime - profile.startTime) / samples
const idle = profile.nodes
  .filter((n) => n.callFrame.functionName === '(idle)')
  .reduce((n, node) => n + node.hitCount, 0)

/** The package a frame belongs to: a node_modules package, a workspace package, or Node. */
function packageOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame
  if (url === '') return `(${functionName || 'native'})`
  if (url.startsWith('node:')) return url
  const dep = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]
  return dep ?? url.replace(/.*\/packages\//, 'svcauth/').replace(/\/(dist|src)\/.*/, '')
}
const where = (frame: ProfileNode['callFrame']) =>
  `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${String(frame.lineNumber)}`

const byPackage = new Map<string, number>()
const byFunction = new Map<string, number>()
for (const node of profile.nodes) {
  const pkg = packageOf(node.callFrame)
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + node.hitCount)
  const fn = where(node.callFrame)
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + node.hitCount)
}
const show = (title: string, counts: Map<string, number>, top: number): void => {
  process.stdout.write(`--- ${title}\n`)
  for (const [label, hits] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const share = ((100 * hits) / samples).toFixed(1).padStart(5)
    const perRequest = ((hits * interval) / served).toFixed(2).padStart(7)
    process.stdout.write(`${share}% ${perRequest} µs/req  ${label}\n`)
  }
}

process.stdout.write(
  `${contender}, ${fresh ? 'a new token every request' : 'one repeated token'}: ${measured.requests.average.toFixed(0)} req/s; busy CPU ${(((samples - idle) * interval) / served).toFixed(1)} µs/req over ${String(served)} requests (start-up included)\n`,
)
show('by package', byPackage, 25)
show('by function', byFunction, 40)

const focus = process.env.FOCUS
if (focus !== undefined) {
  const pattern = new RegExp(focus)
  show(`functions matching ${focus}`, new Map([...byFunction].filter(([f]) => pattern.test(f))), 40)
}
const callersOf = process.env.CALLERS
if (callersOf !== undefined) {
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id)
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const stacks = new Map<string, number>()
  for (const node of profile.nodes) {
    if (node.hitCount === 0 || !node.callFrame.functionName.includes(callersOf)) continue
    const chain: string[] = []
    for (let p = parent.get(node.id), depth = 0; p !== undefined && depth < 6; depth++) {
      const frame = byId.get(p)?.callFrame
      if (frame === undefined) break
      chain.push(where(frame))
      p = parent.get(p)
    }
    const key = chain.join(' < ')
    stacks.set(key, (stacks.get(key) ?? 0) + node.hitCount)
  }
  show(`callers of ${callersOf}`, stacks, 12)
}
process.exit(0)
