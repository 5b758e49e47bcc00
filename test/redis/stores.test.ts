/**
 * @svcauth/redis against a real redis-server: round trips and expiry of the caches, encryption
 * (no plaintext and no token in Redis, a wrong key is a miss), prefixes, atomic replay detection
 * across instances, the lock, and revocations seen by another instance within a second.
 */
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { startRedis, type RedisServer } from '../support/redis-server.js'
import { eventually, KEY, memoryLogger, rawClient, sleep, storeFactory } from './helpers.js'

let redis: RedisServer
let stores: ReturnType<typeof storeFactory>

beforeAll(async () => {
  redis = await startRedis()
  stores = storeFactory(redis.url)
})
afterEach(async () => stores.closeAll())
afterAll(async () => redis.stop())

const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url')

describe('caches', () => {
  test('introspection and tokens round-trip, replace and delete', async () => {
    const s = await stores.open()
    await s.introspection.set('h1', '{"active":true}', 60_000)
    await s.tokens.set('h1', 'token-value', 60_000)
    expect(await s.introspection.get('h1')).toBe('{"active":true}')
    expect(await s.tokens.get('h1')).toBe('token-value')
    await s.introspection.set('h1', '{"active":false}', 60_000)
    expect(await s.introspection.get('h1')).toBe('{"active":false}')
    await s.introspection.delete('h1')
    expect(await s.introspection.get('h1')).toBeUndefined()
    expect(await s.tokens.get('h1')).toBe('token-value')
    expect(await s.tokens.get('absent')).toBeUndefined()
  })

  test('another instance reads what one wrote', async () => {
    const a = await stores.open()
    const b = await stores.open()
    await a.tokens.set('shared', 'v', 60_000)
    expect(await b.tokens.get('shared')).toBe('v')
  })

  test('an entry expires after its ttl', async () => {
    const s = await stores.open()
    await s.introspection.set('short', 'x', 100)
    expect(await s.introspection.get('short')).toBe('x')
    expect(
      await eventually(async () => (await s.introspection.get('short')) === undefined, 2000),
    ).toBe(true)
  })

  test('S1: values are encrypted; key names hold the given hash, never the token', async () => {
    const s = await stores.open({ prefix: 'enc:' })
    const token = `opaque-${randomBytes(16).toString('hex')}`
    const answer = JSON.stringify({ active: true, sub: 'smd', token_hint: token })
    await s.introspection.set(tokenHash(token), answer, 60_000)
    await s.tokens.set('client|scope', token, 60_000)
    const raw = await rawClient(redis.url)
    try {
      const keys = await raw.keys('enc:*')
      expect(keys.sort()).toEqual([
        `enc:introspection:${tokenHash(token)}`,
        'enc:tokens:client|scope',
      ])
      for (const key of keys) {
        expect(key).not.toContain(token)
        const value = (await raw.get(key))!
        expect(value).not.toContain(token)
        expect(value).not.toContain('active')
        expect(Buffer.from(value, 'base64').toString('latin1')).not.toContain(token)
      }
    } finally {
      raw.destroy()
    }
  })

  test('S2: a value under another key, tampered or sealed with another key is a miss, logged once per window', async () => {
    const logger = memoryLogger()
    const writer = await stores.open({ prefix: 'k:' })
    const reader = await stores.open({ prefix: 'k:', encryptionKey: randomBytes(32), logger })
    await writer.tokens.set('a', 'secret-a', 60_000)
    await writer.tokens.set('b', 'secret-b', 60_000)
    expect(await reader.tokens.get('a')).toBeUndefined()
    expect(await reader.tokens.get('b')).toBeUndefined()
    const invalid = logger.lines.filter((l) => l.fields.event === 'redis_value_invalid')
    expect(invalid).toHaveLength(1)
    expect(JSON.stringify(logger.lines)).not.toContain('secret-')

    const raw = await rawClient(redis.url)
    try {
      // Moving a's value under b's name does not serve it as b's: the name is authenticated.
      await raw.set('k:tokens:b', (await raw.get('k:tokens:a'))!)
      expect(await writer.tokens.get('b')).toBeUndefined()
      await raw.set('k:tokens:a', 'garbage')
      expect(await writer.tokens.get('a')).toBeUndefined()
    } finally {
      raw.destroy()
    }
  })

  test('a rotated key list still opens values sealed under the old key', async () => {
    const old = randomBytes(32)
    const before = await stores.open({ prefix: 'rot:', encryptionKey: old })
    await before.tokens.set('t', 'v', 60_000)
    const after = await stores.open({ prefix: 'rot:', encryptionKey: [randomBytes(32), old] })
    expect(await after.tokens.get('t')).toBe('v')
  })

  test('prefixes isolate two deployments on one Redis', async () => {
    const a = await stores.open({ prefix: 'a:' })
    const b = await stores.open({ prefix: 'b:' })
    await a.tokens.set('same', 'from-a', 60_000)
    expect(await b.tokens.get('same')).toBeUndefined()
    expect(await b.dpopReplay.addIfAbsent('jti-1', Date.now() + 60_000)).toBe(true)
    expect(await a.dpopReplay.addIfAbsent('jti-1', Date.now() + 60_000)).toBe(true)
  })
})

describe('DPoP replay', () => {
  test('S6: a proof jti is accepted once across two instances, even at the same moment', async () => {
    const a = await stores.open()
    const b = await stores.open()
    const jti = randomBytes(12).toString('hex')
    const results = await Promise.all([
      a.dpopReplay.addIfAbsent(jti, Date.now() + 60_000),
      b.dpopReplay.addIfAbsent(jti, Date.now() + 60_000),
    ])
    expect(results.sort()).toEqual([false, true])
    expect(await a.dpopReplay.addIfAbsent(jti, Date.now() + 60_000)).toBe(false)
  })

  test('a jti may be used again once its entry expired', async () => {
    const a = await stores.open()
    const jti = randomBytes(12).toString('hex')
    // Kept for at least a second, whatever expiresAt says.
    expect(await a.dpopReplay.addIfAbsent(jti, Date.now())).toBe(true)
    expect(await a.dpopReplay.addIfAbsent(jti, Date.now())).toBe(false)
    const raw = await rawClient(redis.url)
    try {
      expect(await raw.pTTL(`svcauth:dpop:${jti}`)).toBeGreaterThan(0)
      await raw.del(`svcauth:dpop:${jti}`)
    } finally {
      raw.destroy()
    }
    const b = await stores.open()
    expect(await b.dpopReplay.addIfAbsent(jti, Date.now() + 60_000)).toBe(true)
  })
})

describe('lock', () => {
  test('one holder at a time across instances; released, the next takes it', async () => {
    const a = await stores.open()
    const b = await stores.open()
    const release = await a.lock.acquire('token:bss', 10_000)
    expect(release).toBeTypeOf('function')
    expect(await b.lock.acquire('token:bss', 10_000)).toBeUndefined()
    expect(await a.lock.acquire('token:bss', 10_000)).toBeUndefined()
    await release!()
    const next = await b.lock.acquire('token:bss', 10_000)
    expect(next).toBeTypeOf('function')
    await next!()
  })

  test('an expired holder does not release the next holder', async () => {
    const a = await stores.open()
    const b = await stores.open()
    const first = await a.lock.acquire('short', 100)
    expect(first).toBeTypeOf('function')
    const second = await (async () => {
      for (;;) {
        const r = await b.lock.acquire('short', 10_000)
        if (r !== undefined) return r
        await sleep(20)
      }
    })()
    await first!()
    expect(await a.lock.acquire('short', 10_000)).toBeUndefined()
    await second()
    expect(await a.lock.acquire('short', 10_000)).toBeTypeOf('function')
  })
})

describe('revocations', () => {
  test('S5: a revocation on one instance is seen by another within a second', async () => {
    const a = await stores.open()
    const b = await stores.open()
    const issuer = 'https://issuer.test'
    expect(b.revocations.isRevoked(issuer, 'jti-r1')).toBe(false)
    await a.revoke({ issuer, tokenId: 'jti-r1', expiresAt: new Date(Date.now() + 60_000) })
    expect(a.revocations.isRevoked(issuer, 'jti-r1')).toBe(true)
    expect(await eventually(() => b.revocations.isRevoked(issuer, 'jti-r1'), 1000)).toBe(true)
    expect(b.revocations.isRevoked(issuer, 'jti-other')).toBe(false)
    expect(b.revocations.isRevoked('https://other.test', 'jti-r1')).toBe(false)
  })

  test('an instance started later reads the list; the key names a hash, the value is encrypted', async () => {
    const a = await stores.open({ prefix: 'rv:' })
    const exp = Math.floor(Date.now() / 1000) + 60 // a JWT exp, in seconds
    await a.revocations.revoke({ issuer: 'https://i.test', tokenId: 'jti-late', expiresAt: exp })
    const c = await stores.open({ prefix: 'rv:' })
    expect(c.revocations.isRevoked('https://i.test', 'jti-late')).toBe(true)
    const raw = await rawClient(redis.url)
    try {
      const keys = await raw.keys('rv:revoked:*')
      expect(keys).toHaveLength(1)
      expect(keys[0]).toMatch(/^rv:revoked:[0-9a-f]{64}$/)
      expect(await raw.get(keys[0]!)).not.toContain('jti-late')
      const ttl = await raw.pTTL(keys[0]!)
      expect(ttl).toBeGreaterThan(50_000)
      expect(ttl).toBeLessThanOrEqual(61_000)
    } finally {
      raw.destroy()
    }
  })

  test('a revocation ends at the token expiry; an already expired one is not kept', async () => {
    const a = await stores.open({ prefix: 'exp:' })
    await a.revoke({ issuer: 'i', tokenId: 'soon', expiresAt: Date.now() + 150 })
    await a.revoke({ issuer: 'i', tokenId: 'past', expiresAt: Date.now() - 1000 })
    expect(a.revocations.isRevoked('i', 'soon')).toBe(true)
    expect(a.revocations.isRevoked('i', 'past')).toBe(false)
    expect(await eventually(() => !a.revocations.isRevoked('i', 'soon'), 2000)).toBe(true)
  })

  test('bad revocations are TypeErrors', async () => {
    const a = await stores.open()
    await expect(a.revoke({ issuer: '', tokenId: 'x', expiresAt: 1 })).rejects.toThrow(TypeError)
    await expect(a.revoke({ issuer: 'i', tokenId: 'x', expiresAt: Number.NaN })).rejects.toThrow(
      TypeError,
    )
  })
})

describe('options', () => {
  test.each([
    [{ encryptionKey: KEY }, /exactly one of url and client/],
    [{ url: 'http://x', encryptionKey: KEY }, /url must be/],
    [
      { url: 'redis://127.0.0.1:1', encryptionKey: randomBytes(16) },
      /encryptionKey must be 32 bytes/,
    ],
    [{ url: 'redis://127.0.0.1:1', encryptionKey: 'short' }, /encryptionKey must be 32 bytes/],
    [{ url: 'redis://127.0.0.1:1', encryptionKey: KEY, prefix: 'a*' }, /prefix/],
    [{ url: 'redis://127.0.0.1:1', encryptionKey: KEY, timeout: 0 }, /timeout/],
    [{ url: 'redis://127.0.0.1:1', encryptionKey: KEY, failClosed: 'yes' }, /failClosed/],
  ])('%o is refused', async (options, message) => {
    const { redisStores } = await import('@svcauth/redis')
    expect(() => redisStores(options as never)).toThrow(message)
    expect(() => redisStores(options as never)).toThrow(TypeError)
  })

  test('hex and base64 keys of 32 bytes are accepted and equal to the bytes', async () => {
    const a = await stores.open({ prefix: 'kf:', encryptionKey: KEY.toString('hex') })
    const b = await stores.open({ prefix: 'kf:', encryptionKey: KEY.toString('base64') })
    await a.tokens.set('x', 'y', 60_000)
    expect(await b.tokens.get('x')).toBe('y')
  })

  test('a given client is used and left open at close()', async () => {
    const { redisStores } = await import('@svcauth/redis')
    const client = await rawClient(redis.url)
    try {
      const s = redisStores({ client, encryptionKey: KEY, prefix: 'given:' })
      await s.ready()
      await s.tokens.set('k', 'v', 60_000)
      await s.close()
      expect(client.isOpen).toBe(true)
      expect(await client.exists('given:tokens:k')).toBe(1)
    } finally {
      client.destroy()
    }
  })
})
