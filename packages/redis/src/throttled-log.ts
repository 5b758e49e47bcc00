/**
 * Outage logging once per window: a Redis outage touches every request, and a line per request
 * would bury the one line an operator needs. Each condition (event and store) logs at most once
 * per `interval`; the next line says how many were suppressed (core's `LogThrottle`, one per
 * condition).
 */
import type { Logger } from '@svcauth/core'
import { LogThrottle } from '@svcauth/core/internal'

export class ThrottledLog {
  readonly #logger: Logger
  readonly #interval: number
  /** One throttle per condition: a handful of events × five stores, so never large. */
  readonly #conditions = new Map<string, LogThrottle>()

  constructor(logger: Logger, interval: number) {
    this.#logger = logger
    this.#interval = interval
  }

  /** Logs `fields` at `level` unless this condition was logged less than a window ago. */
  log(level: 'warn' | 'error', fields: Record<string, unknown>, msg: string): void {
    const key = `${String(fields.event)}\0${String(fields.store)}`
    let throttle = this.#conditions.get(key)
    if (throttle === undefined) {
      throttle = new LogThrottle(this.#interval)
      this.#conditions.set(key, throttle)
    }
    throttle.run((suppressed) => {
      this.#logger[level](suppressed > 0 ? { ...fields, suppressed } : fields, msg)
    })
  }
}
