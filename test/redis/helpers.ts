/**
 * Shared pieces of the @svcauth/redis tests: a key, a logger that keeps its lines, a raw client to
 * look inside Redis, and polling without timed assertions.
 */
import { randomBytes } from 'node:crypto'
import type { Logger } from '@svcauth/core'
import { redisStores, type RedisStores, type RedisStoresOptions } from '@svcauth/redis'
import { createClient } from 'redis'

export const KEY = randomBytes(32)

export interface Line {
  readonly level: 'warn' | 'error'
  readonly fields: Record<string, unknown>
  readonly msg: string | undefined
}

export function memoryLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = []
  return {
    lines,
    warn(fields, msg) {
      lines.push({ level: 'warn', fields, msg })
    },
    error(fields, msg) {
      lines.push({ level: 'error', fields, msg })
    },
  }
}

/** Stores on `url`, ready, closed by the returned list's `closeAll`. */
export function storeFactory(url: string) {
  const opened: RedisStores[] = []
  return {
    async open(options: Partial<RedisStoresOptions> = {}): Promise<RedisStores> {
      const stores = redisStores({
        url,
        encryptionKey: KEY,
        logger: memoryLogger(),
        // Generous where Redis is up, so a loaded CI machine does not push a call onto its
        // fallback; the fault tests set a short one where they mean it.
        timeout: 2000,
        ...options,
      })
      opened.push(stores)
      await stores.ready()
      return stores
    },
    async closeAll(): Promise<void> {
      await Promise.all(opened.splice(0).map(async (s) => s.close()))
    },
  }
}

export async function rawClient(url: string) {
  const client = createClient({ url })
  client.on('error', () => undefined)
  await client.connect()
  return client
}

/** Polls `check` every 20 ms until it is true or `within` ms passed; resolves whether it was. */
export async function eventually(check: () => boolean | Promise<boolean>, within: number) {
  const deadline = Date.now() + within
  for (;;) {
    if (await check()) return true
    if (Date.now() >= deadline) return false
    await new Promise((r) => setTimeout(r, 20))
  }
}

export const sleep = async (ms: number) => new Promise((r) => setTimeout(r, ms))
