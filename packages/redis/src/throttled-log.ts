/**
 * Outage logging once per window: a Redis outage touches every request, and a line per request
 * would bury the one line an operator needs. Each condition (event and store) logs at most once
 * per `interval`; the next line says how many were suppressed.
 */
import type { Logger } from '@svcauth/core'

export class ThrottledLog {
  readonly #logger: Logger
  readonly #interval: number
  readonly #last = new Map<string, { at: number; suppressed: number }>()

  constructor(logger: Logger, interval: number) {
    this.#logger = logger
    this.#interval = interval
  }

  /** Logs `fields` at `level` unless this condition was logged less than a window ago. */
  log(level: 'warn' | 'error', fields: Record<string, unknown>, msg: string): void {
    const key = `${String(fields.event)}\0${String(fields.store)}`
    const now = performance.now()
    const seen = this.#last.get(key)
    if (seen !== undefined && now - seen.at < this.#interval) {
      seen.suppressed += 1
      return
    }
    this.#last.set(key, { at: now, suppressed: 0 })
    const suppressed = seen?.suppressed ?? 0
    this.#logger[level](suppressed > 0 ? { ...fields, suppressed } : fields, msg)
  }
}
