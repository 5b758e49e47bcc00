/**
 * Issue 21, item 4: a fleet. Three replicas of an SMD-like service, each its own process
 * (`replica.ts`), share one real `redis-server` (started here, on loopback) through
 * `@svcauth/redis`, in front of one test issuer:
 * - a cold burst of calls to a downstream across all three replicas costs one token request;
 * - an opaque token introspected by one replica is not introspected again by the others;
 * - a DPoP proof used at one replica is refused at another (replay);
 * - a revocation made at one replica is refused by all three within a second;
 * - Redis killed under load: no 5xx and no false 401 for valid tokens, then recovery once it is
 *   back (data lost): the fleet shares again.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { createDpopKey, createTestIssuer, type DpopKey, type TestIssuer } from '@svcauth/testing'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRedis, type RedisServer } from '../support/redis-server.js'
import type { ReplicaConfig } from './replica.js'

const SECRET = 'smd-fleet-secret-0123456789-abcdef'
const PUBLIC_ORIGIN = 'https://smd.fleet.example'
const replicaScript = fileURLToPath(new URL('./replica.ts', import.meta.url))

let redis: RedisServer
let issuer: TestIssuer
let key: DpopKey
let downstream: Server
let downstreamUrl: string
const children: ChildProcess[] = []
/** The replicas' origins. */
let replicas: string[] = []

function startReplica(config: ReplicaConfig): Promise<string> {
  const child = spawn(
    process.execPath,
    ['--conditions=@svcauth/source', '--import', 'tsx', replicaScript, JSON.stringify(config)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  children.push(child)
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /listening (\d+)/.exec(out)
      if (match !== null) resolve(`http://127.0.0.1:${match[1]}`)
    })
    child.once('exit', (code) => {
      reject(new Error(`replica exited with ${String(code)}`))
    })
  })
}

beforeAll(async () => {
  ;[redis, issuer, key] = await Promise.all([startRedis(), createTestIssuer(), createDpopKey()])
  issuer.addClient({ clientId: 'smd', secrets: [SECRET] })
  downstream = createServer((req, res) => {
    const ok = typeof req.headers.authorization === 'string'
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ ok }))
  })
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve))
  downstreamUrl = `http://127.0.0.1:${(downstream.address() as AddressInfo).port}`
  const config: ReplicaConfig = {
    issuer: issuer.issuer,
    jwksUri: issuer.jwksUri,
    introspectionEndpoint: issuer.introspectionEndpoint,
    tokenEndpoint: issuer.tokenEndpoint,
    redisUrl: redis.url,
    encryptionKey: randomBytes(32).toString('base64'),
    prefix: 'smd:',
    publicOrigin: PUBLIC_ORIGIN,
    downstream: downstreamUrl,
    clientSecret: SECRET,
  }
  replicas = await Promise.all([startReplica(config), startReplica(config), startReplica(config)])
}, 60_000)

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  downstream.closeAllConnections()
  await new Promise((resolve) => downstream.close(resolve))
  await issuer.close()
  await redis.stop()
})

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await request(url, { headers })
  const text = await res.body.text()
  return { status: res.statusCode, body: text === '' ? null : (JSON.parse(text) as unknown) }
}

const clientToken = () =>
  issuer.mintClientToken({ clientId: 'bss', scope: ['smd.read'], audience: ['smd'] })
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('a fleet of three replicas on one Redis (issue 21)', () => {
  it('a cold burst of calls across the three replicas costs one token request', async () => {
    const before = issuer.hits.token
    const calls = replicas.flatMap((origin) =>
      Array.from({ length: 10 }, () => get(`${origin}/call`)),
    )
    const answers = await Promise.all(calls)
    expect(answers.every((a) => a.status === 200)).toBe(true)
    expect(issuer.hits.token - before).toBe(1)
  })

  it('an opaque token introspected by one replica is not introspected again by the others', async () => {
    const token = issuer.mintOpaqueToken({
      sub: 'bss',
      clientId: 'bss',
      scope: ['smd.read'],
      audience: ['smd'],
    })
    const before = issuer.hits.introspection
    for (const origin of replicas) {
      expect(await get(`${origin}/read`, bearer(token))).toMatchObject({ status: 200 })
    }
    expect(issuer.hits.introspection - before).toBe(1)
  })

  it('S6: a DPoP proof used at one replica is refused at another', async () => {
    const token = await issuer.mintClientToken({
      clientId: 'bss',
      scope: ['smd.read'],
      audience: ['smd'],
      dpop: key,
    })
    const proof = await key.proof({
      method: 'GET',
      url: `${PUBLIC_ORIGIN}/read`,
      accessToken: token,
    })
    const headers = { authorization: `DPoP ${token}`, dpop: proof }
    const [first, second] = replicas as [string, string]
    expect((await get(`${first}/read`, headers)).status).toBe(200)
    const replayed = await request(`${second}/read`, { headers })
    await replayed.body.dump()
    expect(replayed.statusCode).toBe(401)
    expect(replayed.headers['www-authenticate']).toContain('invalid_dpop_proof')
  })

  it('S5: a revocation made at one replica is refused by all three within a second', async () => {
    const token = await clientToken()
    for (const origin of replicas)
      expect((await get(`${origin}/read`, bearer(token))).status).toBe(200)
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      jti: string
      exp: number
    }
    const revoked = await request(`${replicas[0]}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tokenId: payload.jti, expiresAt: payload.exp }),
    })
    await revoked.body.dump()
    expect(revoked.statusCode).toBe(204)
    const deadline = Date.now() + 1000
    let statuses: number[] = []
    while (Date.now() < deadline) {
      statuses = await Promise.all(
        replicas.map(async (o) => (await get(`${o}/read`, bearer(token))).status),
      )
      if (statuses.every((s) => s === 401)) break
      await sleep(50)
    }
    expect(statuses).toEqual([401, 401, 401])
    // Only that token: another of the same client still passes everywhere.
    const other = await clientToken()
    for (const origin of replicas)
      expect((await get(`${origin}/read`, bearer(other))).status).toBe(200)
  })

  it('S4: Redis killed under load: no 5xx, no false 401, then the fleet shares again', async () => {
    // JWTs (verified locally; the revocation list answers from memory) and opaque tokens
    // (introspection answers shared, or asked again while Redis is gone).
    const opaque = (i: number) =>
      issuer.mintOpaqueToken({
        sub: `svc-${i}`,
        clientId: `svc-${i}`,
        scope: ['smd.read'],
        audience: ['smd'],
      })
    const tokens = [
      ...(await Promise.all(Array.from({ length: 3 }, () => clientToken()))),
      opaque(1),
      opaque(2),
    ]
    const statuses = new Map<number, number>()
    let running = true
    const load = Array.from({ length: 6 }, async (_, i) => {
      let n = i
      while (running) {
        const origin = replicas[n % replicas.length] as string
        const token = tokens[n % tokens.length] as string
        const { status } = await get(`${origin}/read`, bearer(token))
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
        n++
      }
    })
    await sleep(200)
    await redis.kill()
    await sleep(800)
    await redis.restart()
    await sleep(300)
    running = false
    await Promise.all(load)
    expect([...statuses.keys()]).toEqual([200])
    expect(statuses.get(200)).toBeGreaterThan(20)
    // Back, with its data lost: the fleet shares introspection answers again.
    let shared = false
    for (let attempt = 0; attempt < 20 && !shared; attempt++) {
      const fresh = issuer.mintOpaqueToken({
        sub: 'bss',
        clientId: 'bss',
        scope: ['smd.read'],
        audience: ['smd'],
      })
      const before = issuer.hits.introspection
      for (const origin of replicas)
        expect((await get(`${origin}/read`, bearer(fresh))).status).toBe(200)
      shared = issuer.hits.introspection - before === 1
      if (!shared) await sleep(100)
    }
    expect(shared).toBe(true)
  })
})
