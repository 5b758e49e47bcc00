/**
 * @svcauth/redis: shared state on Redis for fleets of svcauth services (issue 21). `redisStores()`
 * returns the `stores` of `authenticate()` and `createServiceClient()`: the introspection and
 * outbound token caches, a revocation list every replica sees within a second, DPoP replay
 * detection and a fleet-wide single-flight lock. Every value is encrypted (AES-256-GCM); no key
 * name contains a token; when Redis is down or slow every store answers within its timeout.
 * Every public export is listed here by name.
 */
export type { CommandOptionsLike, RedisClientLike, RedisSubscriberLike } from './client.js'
export { RedisUnavailableError } from './commands.js'
export type { EncryptionKey, RedisStoresOptions } from './options.js'
export { redisStores } from './redis-stores.js'
export type { RedisStores } from './redis-stores.js'
