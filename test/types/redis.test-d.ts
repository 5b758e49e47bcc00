/**
 * Type tests of @svcauth/redis's public API: redisStores() gives every member of SvcauthStores
 * (so it fits `stores` of the verifier and the client) plus revoke, ready and close; a node-redis
 * client created by the application is accepted as `client`.
 */
import type { Revocation, SvcauthStores } from '@svcauth/core'
import {
  redisStores,
  type RedisUnavailableError,
  type RedisClientLike,
  type RedisStores,
  type RedisStoresOptions,
} from '@svcauth/redis'
import { createClient } from 'redis'
import { expectTypeOf, test } from 'vitest'

test('redisStores(options) returns stores that fit SvcauthStores', () => {
  expectTypeOf(redisStores).parameter(0).toEqualTypeOf<RedisStoresOptions>()
  expectTypeOf(redisStores).returns.toEqualTypeOf<RedisStores>()
  expectTypeOf<RedisStores>().toExtend<SvcauthStores>()
  expectTypeOf<RedisStores['revoke']>().parameters.toEqualTypeOf<[revocation: Revocation]>()
  expectTypeOf<RedisStores['ready']>().returns.toEqualTypeOf<Promise<void>>()
  expectTypeOf<RedisStores['close']>().returns.toEqualTypeOf<Promise<void>>()
  expectTypeOf<RedisStores['revocations']['isRevoked']>().returns.toEqualTypeOf<boolean>()
})

test('options: url or a node-redis client, an encryption key in any of its forms', () => {
  expectTypeOf(redisStores).toBeCallableWith({ url: 'redis://r:6379', encryptionKey: 'k' })
  expectTypeOf(redisStores).toBeCallableWith({
    client: createClient({ url: 'redis://r:6379' }),
    encryptionKey: [Buffer.alloc(32), new Uint8Array(32)],
    prefix: 'smd:',
    timeout: 100,
    failClosed: true,
  })
  expectTypeOf(createClient()).toExtend<RedisClientLike>()
  // @ts-expect-error encryptionKey is required
  redisStores({ url: 'redis://r:6379' })
  expectTypeOf<RedisUnavailableError['code']>().toEqualTypeOf<'SVCAUTH_REDIS_UNAVAILABLE'>()
})
