/**
 * `redisStores()`: the shared state of a fleet on one Redis (issue 21), as the `stores` option of
 * `authenticate()` and `createServiceClient()`. Key names are `${prefix}${purpose}:${key}` with
 * purposes `introspection`, `tokens`, `dpop`, `lock` and `revoked` (also the revocation channel).
 *
 * Given a `url`, the stores own their connection: node-redis with `disableOfflineQueue` (a command
 * while disconnected fails at once instead of queueing) and a reconnect strategy that never gives
 * up (backoff capped at one second), so recovery after an outage is automatic. Given a `client`,
 * they use it as it is. Either way they open one more connection, a duplicate, to subscribe to
 * revocations.
 */
import type {
  Revocation,
  RevocationList,
  SharedCache,
  SharedLock,
  SharedSet,
  SvcauthStores,
} from '@svcauth/core'
import { createClient } from 'redis'
import type { OwnedClientLike, RedisClientLike, RedisSubscriberLike } from './client.js'
import { Commands, describe, RedisUnavailableError } from './commands.js'
import { Sealer } from './encryption.js'
import { RedisLock } from './lock.js'
import { resolveRedisOptions, type RedisStoresOptions } from './options.js'
import { RedisReplaySet } from './replay-set.js'
import { RedisRevocationList } from './revocations.js'
import { RedisCache } from './shared-cache.js'
import { ThrottledLog } from './throttled-log.js'

/** The stores on Redis: every member of `SvcauthStores`, and their lifecycle. */
export interface RedisStores extends SvcauthStores {
  readonly introspection: SharedCache
  readonly revocations: RevocationList
  readonly dpopReplay: SharedSet
  readonly tokens: SharedCache
  readonly lock: SharedLock
  /** Revokes a token for every replica (the same as `revocations.revoke`). */
  revoke(revocation: Revocation): Promise<void>
  /**
   * Resolves once Redis answered and the revocation list was read and subscribed to; rejects
   * after `connectTimeout`. Optional: the stores work before (on their fallbacks) and reconnect.
   */
  ready(): Promise<void>
  /** Stops the timers and closes the connections the stores opened (not a given `client`). */
  close(): Promise<void>
}

/** Backoff between reconnection attempts: 50 ms doubling, at most 1 s, for ever. */
function reconnectStrategy(retries: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 5), 1000)
}

const DPOP_LOCAL_MAX = 100_000
const READY_POLL_MS = 50

/**
 * The shared stores of a fleet on Redis.
 *
 * @example
 * ```ts
 * import { redisStores } from '@svcauth/redis'
 * const stores = redisStores({
 *   url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
 *   encryptionKey: process.env.SVCAUTH_REDIS_KEY ?? '', // 32 bytes, hex or base64
 * })
 * app.use(authenticate({ issuer, audience: 'smd', introspection: {}, stores }))
 * // An admin endpoint, on any replica: every replica refuses the token within a second.
 * await stores.revoke({ issuer, tokenId: jti, expiresAt: exp })
 * ```
 */
export function redisStores(options: RedisStoresOptions): RedisStores {
  const resolved = resolveRedisOptions(options)
  const log = new ThrottledLog(resolved.logger, resolved.logInterval)
  const sealer = new Sealer(resolved.keys)
  const prefix = resolved.prefix

  let owned: OwnedClientLike | undefined
  if (resolved.url !== undefined) {
    owned = createClient({
      url: resolved.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: resolved.connectTimeout, reconnectStrategy },
    })
  }
  const client: RedisClientLike | undefined = owned ?? resolved.client
  // resolveRedisOptions required one of url and client.
  if (client === undefined) throw new TypeError('svcauth: redisStores needs url or client')
  const commands = new Commands(client, resolved.timeout, log)
  const cacheParts = { commands, sealer, log, fallbackMax: resolved.fallbackMax }
  const introspection = new RedisCache({
    ...cacheParts,
    namespace: `${prefix}introspection:`,
    purpose: 'introspection',
  })
  const tokens = new RedisCache({ ...cacheParts, namespace: `${prefix}tokens:`, purpose: 'tokens' })
  const dpopReplay = new RedisReplaySet(
    commands,
    `${prefix}dpop:`,
    resolved.failClosed,
    DPOP_LOCAL_MAX,
  )
  const lock = new RedisLock(commands, `${prefix}lock:`)
  const channel = `${prefix}revoked`
  const revocations = new RedisRevocationList({
    commands,
    sealer,
    log,
    channel,
    max: resolved.maxRevocations,
  })

  let closed = false
  const connectionFailed = (err: unknown): void => {
    log.log(
      'warn',
      { event: 'redis_unavailable', store: 'connection', error: describe(err) },
      'Redis connection lost: reconnecting',
    )
  }
  // After every (re)connection, read the list again: messages may have been missed meanwhile.
  // Both connections call it; only the command connection can read.
  const reconnected = (): void => {
    if (!closed && client.isReady) void revocations.refresh(true)
  }
  if (owned !== undefined) {
    owned.on('error', connectionFailed)
    owned.on('ready', reconnected)
    // connect() retries by itself until it connects or close(); failures are logged above.
    owned.connect().catch(() => undefined)
  }

  const subscriber: RedisSubscriberLike = client.duplicate()
  let subscribed = false
  const receive = (message: string): void => {
    revocations.receive(message)
  }
  const subscribe = (): void => {
    if (closed || subscribed) return
    subscriber.subscribe(channel, receive).then(
      () => {
        subscribed = true
      },
      (err: unknown) => {
        connectionFailed(err)
      },
    )
  }
  subscriber.on('error', connectionFailed)
  subscriber.on('ready', () => {
    subscribe()
    reconnected()
  })
  subscriber.connect().catch(() => undefined)

  const periodic = setInterval(() => void revocations.refresh(), resolved.reconcileInterval)
  periodic.unref()

  let readiness: Promise<void> | undefined
  const ready = async (): Promise<void> => {
    const deadline = performance.now() + resolved.connectTimeout
    while (!closed) {
      if (
        subscribed &&
        client.isReady &&
        (revocations.loaded || (await revocations.refresh(true)))
      ) {
        return
      }
      if (performance.now() >= deadline) break
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS))
    }
    throw new RedisUnavailableError(
      closed
        ? 'the Redis stores were closed'
        : `Redis did not answer within ${resolved.connectTimeout} ms`,
    )
  }

  return Object.freeze({
    introspection,
    tokens,
    dpopReplay,
    lock,
    revocations,
    revoke: async (revocation: Revocation) => revocations.revoke(revocation),
    ready: async () => {
      readiness ??= ready().finally(() => {
        readiness = undefined
      })
      return readiness
    },
    close: async () => {
      if (closed) return
      closed = true
      clearInterval(periodic)
      revocations.close()
      if (subscriber.isOpen) subscriber.destroy()
      if (owned?.isOpen === true) owned.destroy()
      await Promise.resolve()
    },
  })
}
