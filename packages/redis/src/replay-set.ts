/**
 * DPoP proof replay detection shared by a fleet (RFC 9449 §11.1: a server should keep the `jti`s
 * of the proofs it accepted for their lifetime): `SET name 1 NX PXAT expiresAt`, atomic, so two
 * replicas given the same proof at the same moment cannot both accept it. The value is a marker
 * with no data and is not encrypted; the key is the caller's (already a `jti` or its hash).
 *
 * Redis unavailable: with `failClosed`, the call rejects and core answers 503
 * `dpop_replay_unavailable`; otherwise the proof is checked against an in-process store (a replay
 * to this replica is still refused, one to another replica is not), logged as an error once per
 * window. Every proof Redis accepted is recorded in that store too, so an outage does not forget
 * what this replica has already seen.
 */
import type { SharedSet } from '@svcauth/core'
import { MemoryReplayStore } from '@svcauth/core'
import type { Commands } from './commands.js'

export class RedisReplaySet implements SharedSet {
  readonly #commands: Commands
  readonly #namespace: string
  readonly #failClosed: boolean
  readonly #local: MemoryReplayStore

  constructor(commands: Commands, namespace: string, failClosed: boolean, localMax: number) {
    this.#commands = commands
    this.#namespace = namespace
    this.#failClosed = failClosed
    this.#local = new MemoryReplayStore({ max: localMax })
  }

  async addIfAbsent(key: string, expiresAt: number): Promise<boolean> {
    // PXAT in the past would store nothing; a proof is kept for at least a second.
    const at = Math.max(Math.ceil(expiresAt), Date.now() + 1000)
    let reply: unknown
    try {
      reply = await this.#commands.send([
        'SET',
        this.#namespace + key,
        '1',
        'NX',
        'PXAT',
        String(at),
      ])
    } catch (err) {
      this.#commands.unavailable('dpopReplay', err, 'error')
      if (this.#failClosed) throw err
      return this.#local.addIfAbsent(key, expiresAt)
    }
    if (reply === null) return false
    this.#local.addIfAbsent(key, expiresAt)
    return true
  }
}
