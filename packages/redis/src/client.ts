/**
 * The part of a node-redis client (`redis` v5+) the stores use, structurally, so that a client
 * created with any modules or scripts can be given as `client`. Every command goes through
 * `sendCommand`: the stores use plain commands (GET, SET … PX/PXAT NX, DEL, EVAL, PUBLISH, SCAN,
 * MGET) that every Redis from 6.2 on answers.
 */

/** Per-command options node-redis understands (older clients ignore them; our timer still runs). */
export interface CommandOptionsLike {
  timeout?: number
  rejectInFlight?: boolean
}

/** A connection used for commands. */
export interface RedisClientLike {
  sendCommand(args: string[], options?: CommandOptionsLike): Promise<unknown>
  duplicate(): RedisSubscriberLike
  readonly isReady: boolean
}

/** The duplicate connection that listens on the revocation channel. */
export interface RedisSubscriberLike {
  connect(): Promise<unknown>
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>
  on(event: 'error' | 'ready', listener: (...args: unknown[]) => void): unknown
  destroy(): void
  readonly isOpen: boolean
}

/** The connection the stores own when given a `url`. */
export interface OwnedClientLike extends RedisClientLike {
  connect(): Promise<unknown>
  on(event: 'error' | 'ready', listener: (...args: unknown[]) => void): unknown
  destroy(): void
  readonly isOpen: boolean
}
