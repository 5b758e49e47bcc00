/**
 * @svcauth/redis when Redis fails (issue 21, item 3), against a real redis-server killed, paused
 * (SIGSTOP: connected but silent, i.e. slow) and restarted with its data lost: no call hangs past
 * its timeout (checked against a generous bound, not measured), caches fall back to the process
 * and log once per window, replay detection falls back (an error line) or refuses when
 * `failClosed`, and everything recovers by itself, the revocation list included.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { startRedis, type RedisServer } from '../support/redis-server.js'
import { eventually, memoryLogger, rawClient, storeFactory } from './helpers.js'

const TIMEOUT = 100
/** A call that has not returned by then hangs (the timeout is 100 ms). */
const HANG = 3000

let redis: RedisServer
let stores: ReturnType<typeof storeFactory>

beforeEach(async () => {
  redis = await startRedis()
  stores = storeFactory(redis.url)
})
afterEach(async () => {
  await stores.closeAll()
  await redis.stop()
})

/** The call's result, or 'hung' when it did not settle within HANG ms. */
async function settled<T>(call: Promise<T>): Promise<T | 'hung' | 'rejected'> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => {
      resolve('hung')
    }, HANG)
  })
  try {
    return await Promise.race([call.catch(() => 'rejected' as const), hung])
  } finally {
    clearTimeout(timer)
  }
}

async function exercise(s: Awaited<ReturnType<typeof stores.open>>) {
  return {
    get: await settled(s.introspection.get('remote')),
    set: await settled(s.tokens.set('during', 'local-value', 60_000)),
    local: await settled(s.tokens.get('during')),
    del: await settled(s.introspection.delete('x')),
    lock: await settled(s.lock.acquire('l', 1000)),
    first: await settled(Promise.resolve(s.dpopReplay.addIfAbsent('p1', Date.now() + 60_000))),
    replay: await settled(Promise.resolve(s.dpopReplay.addIfAbsent('p1', Date.now() + 60_000))),
  }
}

describe.each([
  ['killed', async () => redis.kill()],
  [
    'paused',
    async () => {
      redis.pause()
      await Promise.resolve()
    },
  ],
])('Redis %s', (_name, fail) => {
  test('S4: every store answers within its timeout from its fallback, logged once per window', async () => {
    const logger = memoryLogger()
    const s = await stores.open({ timeout: TIMEOUT, logger, logInterval: 60_000 })
    // Written by another instance with the default timeout, so it is in Redis only (a slow write
    // through `s` could land in its fallback on a loaded machine).
    await (await stores.open()).introspection.set('remote', 'in-redis', 60_000)
    await fail()
    const first = await exercise(s)
    expect(first.get).toBeUndefined()
    expect(first.set).toBeUndefined()
    expect(first.local).toBe('local-value')
    expect(first.del).toBeUndefined()
    expect(first.lock).toBeTypeOf('function')
    expect(first.first).toBe(true)
    expect(first.replay).toBe(false)
    // Again, after the break: still no hang, still no second line per store.
    await new Promise((r) => setTimeout(r, 1100))
    const second = await exercise(s)
    expect(second.local).toBe('local-value')
    expect(second.replay).toBe(false)
    const unavailable = logger.lines.filter(
      (l) => l.fields.event === 'redis_unavailable' && l.fields.store !== 'connection',
    )
    const perStore = new Map<unknown, number>()
    for (const l of unavailable)
      perStore.set(l.fields.store, (perStore.get(l.fields.store) ?? 0) + 1)
    expect([...perStore.values()].every((n) => n === 1)).toBe(true)
    expect(perStore.has('introspection') && perStore.has('tokens') && perStore.has('lock')).toBe(
      true,
    )
    const replayLine = unavailable.find((l) => l.fields.store === 'dpopReplay')
    expect(replayLine?.level).toBe('error')
    redis.resume()
  })

  test('S4: failClosed: replay detection refuses while Redis cannot answer, then recovers', async () => {
    const s = await stores.open({ timeout: TIMEOUT, failClosed: true })
    // Redis answers (a loaded machine may miss the first 100 ms, which failClosed refuses).
    expect(
      await eventually(
        async () =>
          (await settled(
            Promise.resolve(s.dpopReplay.addIfAbsent(`b${Math.random()}`, Date.now() + 60_000)),
          )) === true,
        10_000,
      ),
    ).toBe(true)
    await fail()
    expect(await settled(Promise.resolve(s.dpopReplay.addIfAbsent('p', Date.now() + 60_000)))).toBe(
      'rejected',
    )
    redis.resume()
    if (_name === 'killed') await redis.restart()
    expect(
      await eventually(
        async () =>
          (await settled(
            Promise.resolve(s.dpopReplay.addIfAbsent(`q${Math.random()}`, Date.now() + 60_000)),
          )) === true,
        10_000,
      ),
    ).toBe(true)
  })
})

test('after a restart with data lost, the caches use Redis again by themselves', async () => {
  const s = await stores.open()
  await s.tokens.set('a', 'before', 60_000)
  await redis.restart()
  const raw = await rawClient(redis.url)
  try {
    expect(await raw.exists('svcauth:tokens:a')).toBe(0)
    expect(
      await eventually(async () => {
        await s.tokens.set('b', 'after', 60_000)
        return (await raw.exists('svcauth:tokens:b')) === 1
      }, 10_000),
    ).toBe(true)
    const other = await stores.open()
    expect(await other.tokens.get('b')).toBe('after')
  } finally {
    raw.destroy()
  }
})

test('S5: revocations survive a restart with data lost: written back, seen by an instance started later', async () => {
  const a = await stores.open()
  await a.revoke({ issuer: 'https://i.test', tokenId: 'kept', expiresAt: Date.now() + 120_000 })
  await redis.restart()
  expect(a.revocations.isRevoked('https://i.test', 'kept')).toBe(true)
  const raw = await rawClient(redis.url)
  try {
    expect(
      await eventually(async () => (await raw.keys('svcauth:revoked:*')).length === 1, 10_000),
    ).toBe(true)
  } finally {
    raw.destroy()
  }
  const later = await stores.open()
  expect(later.revocations.isRevoked('https://i.test', 'kept')).toBe(true)
})

test('a revocation made while Redis is down holds here at once and reaches the others after recovery', async () => {
  const a = await stores.open()
  const b = await stores.open()
  await redis.kill()
  await expect(
    a.revoke({ issuer: 'https://i.test', tokenId: 'offline', expiresAt: Date.now() + 120_000 }),
  ).rejects.toThrow(/this instance only/)
  expect(a.revocations.isRevoked('https://i.test', 'offline')).toBe(true)
  expect(b.revocations.isRevoked('https://i.test', 'offline')).toBe(false)
  await redis.restart()
  expect(await eventually(() => b.revocations.isRevoked('https://i.test', 'offline'), 10_000)).toBe(
    true,
  )
})

test('ready() rejects within connectTimeout when Redis is not there; the stores still answer', async () => {
  await redis.kill()
  const { redisStores } = await import('@svcauth/redis')
  const s = redisStores({
    url: redis.url,
    encryptionKey: Buffer.alloc(32, 1),
    timeout: TIMEOUT,
    connectTimeout: 300,
    logger: memoryLogger(),
  })
  try {
    expect(await settled(s.ready())).toBe('rejected')
    expect(await settled(s.tokens.get('x'))).toBeUndefined()
    expect(s.revocations.isRevoked('i', 'j')).toBe(false)
  } finally {
    await s.close()
  }
})
