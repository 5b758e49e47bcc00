/**
 * The options of `redisStores()`, checked once: a mistake is a TypeError at start-up naming the
 * option (STYLE.md), never a failure at request time.
 */
import { defaultLogger, type Logger } from '@svcauth/core'
import type { RedisClientLike } from './client.js'

/** A 32-byte AES-256 key: the bytes, or a string of them in hex (64 digits) or base64. */
export type EncryptionKey = Uint8Array | string

export interface RedisStoresOptions {
  /**
   * The Redis server, `redis://[[user]:password@]host[:port][/db]` or `rediss://` for TLS: the
   * stores open the connection, reconnect by themselves and close it in `close()`. Give `url` or
   * `client`, not both.
   */
  url?: string
  /**
   * A node-redis client the application owns (`createClient()` from `redis`): the stores neither
   * connect nor close it (they do open and close their own subscriber, a `duplicate()` of it).
   * Create it with `disableOfflineQueue: true` so that commands fail fast while it is away; the
   * stores' own `timeout` applies either way.
   */
  client?: RedisClientLike
  /**
   * The AES-256-GCM key of every value stored: 32 bytes, or a list of them to rotate (the first
   * seals, all open). Give every replica the same keys.
   */
  encryptionKey: EncryptionKey | readonly EncryptionKey[]
  /** Prefix of every key name and of the revocation channel. @default 'svcauth:' */
  prefix?: string
  /** Longest wait for one Redis command, ms; then the call falls back or fails. @default 250 */
  timeout?: number
  /** Longest wait of `ready()` for the first connection, ms. @default 2000 */
  connectTimeout?: number
  /**
   * DPoP replay detection while Redis cannot answer: `false` checks proofs in this process only
   * (a replay to another replica goes unseen, logged as an error); `true` refuses the request
   * (503 `dpop_replay_unavailable`). @default false
   */
  failClosed?: boolean
  /** Where outages and undecryptable values are logged. @default core's defaultLogger */
  logger?: Logger
  /** Least time between two log lines of one condition, ms. @default 10000 */
  logInterval?: number
  /** Entries of each in-process fallback cache (introspection, tokens). @default 10000 */
  fallbackMax?: number
  /** Entries of the in-memory revocation mirror. @default 100000 */
  maxRevocations?: number
  /** Time between two full reads of the revocation list (heals a missed message), ms. @default 30000 */
  reconcileInterval?: number
}

/** The checked options. */
export interface ResolvedRedisOptions {
  readonly url: string | undefined
  readonly client: RedisClientLike | undefined
  readonly keys: readonly Buffer[]
  readonly prefix: string
  readonly timeout: number
  readonly connectTimeout: number
  readonly failClosed: boolean
  readonly logger: Logger
  readonly logInterval: number
  readonly fallbackMax: number
  readonly maxRevocations: number
  readonly reconcileInterval: number
}

function fail(message: string): never {
  throw new TypeError(`svcauth: redisStores ${message}`)
}

function num(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(`${name} must be a number from ${min} to ${max}`)
  }
  return value
}

function int(name: string, value: unknown, fallback: number, min: number, max: number): number {
  const n = num(name, value, fallback, min, max)
  if (!Number.isInteger(n)) fail(`${name} must be an integer`)
  return n
}

/** One key as 32 bytes, whichever form it was given in. */
function keyBytes(value: unknown): Buffer {
  let bytes: Buffer | undefined
  if (value instanceof Uint8Array) bytes = Buffer.from(value)
  else if (typeof value === 'string') {
    if (/^[0-9a-fA-F]{64}$/.test(value)) bytes = Buffer.from(value, 'hex')
    else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) bytes = Buffer.from(value, 'base64')
  }
  if (bytes?.length !== 32) {
    // The key itself is never part of the message.
    fail('encryptionKey must be 32 bytes: a Buffer, or a hex (64 digits) or base64 string of them')
  }
  return bytes
}

/** Checks `options` once; throws a TypeError naming the first mistake. */
export function resolveRedisOptions(options: RedisStoresOptions): ResolvedRedisOptions {
  if (typeof options !== 'object' || (options as unknown) === null)
    fail('options must be an object')
  const { url, client } = options
  if ((url === undefined) === (client === undefined)) fail('needs exactly one of url and client')
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\/./.test(url))) {
    fail('url must be a redis:// or rediss:// URL')
  }
  if (
    client !== undefined &&
    (typeof client !== 'object' ||
      typeof client.sendCommand !== 'function' ||
      typeof client.duplicate !== 'function')
  ) {
    fail('client must be a node-redis client (createClient() from redis)')
  }
  const given = options.encryptionKey as unknown
  const list: unknown[] = Array.isArray(given) ? given : [given]
  if (list.length === 0) fail('encryptionKey must name at least one key')
  const keys = list.map(keyBytes)
  const prefix = options.prefix ?? 'svcauth:'
  if (typeof prefix !== 'string' || prefix.length > 100 || /[\s*?[\]]/.test(prefix)) {
    fail('prefix must be a string of at most 100 characters without spaces or glob characters')
  }
  const logger = options.logger ?? defaultLogger
  if (typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    fail('logger must have warn() and error()')
  }
  if (options.failClosed !== undefined && typeof options.failClosed !== 'boolean') {
    fail('failClosed must be a boolean')
  }
  return Object.freeze({
    url,
    client,
    keys: Object.freeze(keys),
    prefix,
    timeout: num('timeout', options.timeout, 250, 1, 60_000),
    connectTimeout: num('connectTimeout', options.connectTimeout, 2000, 1, 600_000),
    failClosed: options.failClosed ?? false,
    logger,
    logInterval: num('logInterval', options.logInterval, 10_000, 0, 86_400_000),
    fallbackMax: int('fallbackMax', options.fallbackMax, 10_000, 1, 10_000_000),
    maxRevocations: int('maxRevocations', options.maxRevocations, 100_000, 1, 10_000_000),
    reconcileInterval: num('reconcileInterval', options.reconcileInterval, 30_000, 100, 86_400_000),
  })
}
