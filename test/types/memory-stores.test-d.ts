/**
 * Type tests of the test kit's in-process shared stores (issue 21): what `createMemoryStores`
 * returns is an `SvcauthStores`, so it is accepted as `stores` by both sides.
 */
import type { ServiceClientOptions } from '@svcauth/client'
import type { AuthenticatorOptions, SvcauthStores } from '@svcauth/core'
import {
  createMemoryStores,
  type MemoryCache,
  type MemoryLock,
  type MemorySet,
  type MemoryStoreMode,
  type MemoryStores,
  type MemoryStoresOptions,
} from '@svcauth/testing'
import { expectTypeOf, test } from 'vitest'

test('createMemoryStores(options) returns every SvcauthStores member', () => {
  expectTypeOf(createMemoryStores).parameter(0).toEqualTypeOf<MemoryStoresOptions | undefined>()
  expectTypeOf(createMemoryStores).returns.toEqualTypeOf<MemoryStores>()
  expectTypeOf<MemoryStores>().toExtend<SvcauthStores>()
  expectTypeOf<MemoryStores>().toExtend<NonNullable<AuthenticatorOptions['stores']>>()
  expectTypeOf<MemoryStores>().toExtend<NonNullable<ServiceClientOptions['stores']>>()
  expectTypeOf<MemoryStores['tokens']>().toEqualTypeOf<MemoryCache>()
  expectTypeOf<MemoryStores['lock']>().toEqualTypeOf<MemoryLock>()
  expectTypeOf<MemoryStores['dpopReplay']>().toEqualTypeOf<MemorySet>()
  expectTypeOf<MemoryStores['setMode']>().parameter(0).toEqualTypeOf<MemoryStoreMode>()
})
