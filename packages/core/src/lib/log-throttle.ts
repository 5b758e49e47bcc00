/**
 * One log line per interval for a condition that request traffic can repeat at will (a failing
 * resolver, an endpoint down): the next line says how many it stands for, so an outage is never
 * silent and never floods the log.
 */

export class LogThrottle {
  readonly #interval: number
  #last = Number.NEGATIVE_INFINITY
  #suppressed = 0

  /** `interval`: least time between two lines, ms. */
  constructor(interval: number) {
    this.#interval = interval
  }

  /**
   * Calls `write` with the number of lines suppressed since the last one, unless a line was
   * written less than the interval ago (then counts it as suppressed).
   */
  run(write: (suppressed: number) => void): void {
    const now = performance.now()
    if (now - this.#last < this.#interval) {
      this.#suppressed += 1
      return
    }
    this.#last = now
    const suppressed = this.#suppressed
    this.#suppressed = 0
    write(suppressed)
  }
}
