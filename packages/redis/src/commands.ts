/**
 * One Redis command with a deadline (issue 21: nothing hangs past a short timeout). Each command
 * races a timer of `timeout` ms; node-redis is also told the timeout with `rejectInFlight`, so a
 * command to a server that stopped answering (paused, partitioned) leaves its queue at once.
 *
 * After a command failed, Redis is skipped for `BREAK_MS` (a circuit breaker): while Redis is
 * slow, each request would otherwise wait the full timeout before using its fallback. The first
 * command after the break tries Redis again, so recovery needs nothing but Redis answering.
 */
import type { RedisClientLike } from './client.js'
import type { ThrottledLog } from './throttled-log.js'

/** How long Redis is skipped after a failed command, ms. */
export const BREAK_MS = 1000

/** Redis did not answer (down, slow, or skipped after a recent failure). */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError'
  readonly code = 'SVCAUTH_REDIS_UNAVAILABLE'
}

export class Commands {
  readonly #client: RedisClientLike
  readonly #timeout: number
  readonly #log: ThrottledLog
  #brokenUntil = 0

  constructor(client: RedisClientLike, timeout: number, log: ThrottledLog) {
    this.#client = client
    this.#timeout = timeout
    this.#log = log
  }

  /** Whether commands are skipped now (a recent failure). */
  get broken(): boolean {
    return performance.now() < this.#brokenUntil
  }

  /**
   * Sends `args`; rejects with RedisUnavailableError on any failure, within `timeout`. `force`
   * tries Redis even during the break (start-up, right after a reconnect).
   */
  async send(args: string[], force = false): Promise<unknown> {
    if (this.broken && !force)
      throw new RedisUnavailableError('Redis skipped after a recent failure')
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new RedisUnavailableError(`Redis did not answer within ${this.#timeout} ms`))
      }, this.#timeout)
    })
    const command = (async () =>
      this.#client.sendCommand(args, { timeout: this.#timeout, rejectInFlight: true }))()
    // The loser of the race must not become an unhandled rejection.
    command.catch(() => undefined)
    try {
      const reply = await Promise.race([command, deadline])
      // Redis answers again: no request waits for the rest of the break.
      this.#brokenUntil = 0
      return reply
    } catch (err) {
      this.#brokenUntil = performance.now() + BREAK_MS
      if (err instanceof RedisUnavailableError) throw err
      throw new RedisUnavailableError(describe(err), { cause: err })
    } finally {
      clearTimeout(timer)
    }
  }

  /** Logs that `store` fell back (once per window): `warn`, or `error` where security is lessened. */
  unavailable(store: string, err: unknown, level: 'warn' | 'error' = 'warn'): void {
    this.#log.log(
      level,
      { event: 'redis_unavailable', store, error: describe(err) },
      level === 'error'
        ? `Redis unavailable: ${store} checked in this process only`
        : `Redis unavailable: ${store} uses its in-process fallback`,
    )
  }
}

/** An error's message, without a stack; Redis errors name commands, never the values sent. */
export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
