/**
 * The test kit's in-process shared stores (issue 21): every `SvcauthStores` member, real TTLs,
 * bounds, one lock holder per key, and the modes that make a store down, hung or slow.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { resolveStores } from '@svcauth/core/internal'
import { createMemoryStores } from '@svcauth/testing'
import { describe, expect, it } from 'vitest'

describe('createMemoryStores', () => {
  it('passes the stores validation of authenticate() and createServiceClient()', () => {
    const stores = createMemoryStores()
    expect(resolveStores(stores)).toBe(stores)
  })

  it('caches strings until their TTL ends, replaces on set, deletes', async () => {
    const { tokens } = createMemoryStores()
    await tokens.set('token:a', 'one', 60_000)
    await tokens.set('token:b', 'short', 30)
    await tokens.set('token:a', 'two', 60_000)
    expect(await tokens.get('token:a')).toBe('two')
    expect(await tokens.get('token:b')).toBe('short')
    await sleep(60)
    expect(await tokens.get('token:b')).toBeUndefined()
    expect(tokens.keys()).toEqual(['token:a'])
    await tokens.delete('token:a')
    expect(await tokens.get('token:a')).toBeUndefined()
    await tokens.set('token:c', 'never', 0)
    expect(tokens.keys()).toEqual([])
  })

  it('holds at most max entries, dropping the one closest to expiry first', async () => {
    const { introspection } = createMemoryStores({ max: 3 })
    await introspection.set('k1', 'v', 50_000)
    await introspection.set('k2', 'v', 10_000)
    await introspection.set('k3', 'v', 90_000)
    await introspection.set('k4', 'v', 70_000)
    expect(introspection.keys().sort()).toEqual(['k1', 'k3', 'k4'])
  })

  it('rejects a max that is not a positive whole number', () => {
    expect(() => createMemoryStores({ max: 0 })).toThrow(TypeError)
    expect(() => createMemoryStores({ max: 1.5 })).toThrow(TypeError)
  })

  it('adds a key once until it expires (replay detection)', async () => {
    const { dpopReplay } = createMemoryStores()
    expect(await dpopReplay.addIfAbsent('jti-1', Date.now() + 60_000)).toBe(true)
    expect(await dpopReplay.addIfAbsent('jti-1', Date.now() + 60_000)).toBe(false)
    expect(await dpopReplay.addIfAbsent('jti-2', Date.now() + 20)).toBe(true)
    await sleep(40)
    expect(await dpopReplay.addIfAbsent('jti-2', Date.now() + 60_000)).toBe(true)
  })

  it('revokes by (issuer, token id) until the token expires, answering isRevoked at once', async () => {
    const { revocations } = createMemoryStores()
    await revocations.revoke({ issuer: 'https://a', tokenId: 'j1', expiresAt: Date.now() + 60_000 })
    await revocations.revoke({
      issuer: 'https://a',
      tokenId: 'j2',
      expiresAt: new Date(Date.now() + 20),
    })
    expect(revocations.isRevoked('https://a', 'j1')).toBe(true)
    expect(revocations.isRevoked('https://b', 'j1')).toBe(false)
    expect(revocations.isRevoked('https://a', 'j2')).toBe(true)
    await sleep(40)
    expect(revocations.isRevoked('https://a', 'j2')).toBe(false)
  })

  it('gives a lock to one holder until released or expired; a stale release frees nothing', async () => {
    const { lock } = createMemoryStores()
    const first = await lock.acquire('token:x', 30)
    expect(first).toBeTypeOf('function')
    expect(await lock.acquire('token:x', 30)).toBeUndefined()
    expect(await lock.acquire('token:y', 30)).toBeTypeOf('function')
    await sleep(50)
    const second = await lock.acquire('token:x', 60_000)
    expect(second).toBeTypeOf('function')
    await first?.()
    expect(lock.held('token:x')).toBe(true)
    await second?.()
    expect(lock.held('token:x')).toBe(false)
    expect(lock.grants).toBe(3)
  })

  it('fails, hangs or answers late as set, and isRevoked keeps answering', async () => {
    const stores = createMemoryStores()
    await stores.revocations.revoke({ issuer: 'i', tokenId: 't', expiresAt: Date.now() + 60_000 })
    stores.setMode('down')
    await expect(stores.tokens.get('k')).rejects.toThrow('memory store: down')
    await expect(stores.lock.acquire('k', 1000)).rejects.toThrow('memory store: down')
    expect(stores.revocations.isRevoked('i', 't')).toBe(true)
    stores.setMode('hang')
    const hung = await Promise.race([stores.tokens.get('k'), sleep(30, 'no answer')])
    expect(hung).toBe('no answer')
    stores.setMode({ delay: 10 })
    await stores.tokens.set('k', 'v', 60_000)
    expect(await stores.tokens.get('k')).toBe('v')
    stores.setMode('ok')
    expect(stores.tokens.calls).toBe(4)
  })

  it('clear() empties every store, as a restart that lost its data', async () => {
    const stores = createMemoryStores()
    await stores.tokens.set('k', 'v', 60_000)
    await stores.revocations.revoke({ issuer: 'i', tokenId: 't', expiresAt: Date.now() + 60_000 })
    await stores.lock.acquire('k', 60_000)
    stores.clear()
    expect(stores.tokens.keys()).toEqual([])
    expect(stores.revocations.isRevoked('i', 't')).toBe(false)
    expect(stores.lock.held('k')).toBe(false)
  })
})
