/**
 * The level of a request line, by how it ended: a rejected token is the caller's fault (`warn`; a
 * request with no credentials at all is routine, `info`); an authentication infrastructure failure
 * (JWKS or token endpoint down: 503) is ours (`error`), but an outage seen by thousands of
 * requests must not become thousands of error lines, so error lines are budgeted per reason: one
 * per interval, the rest logged at `warn` with `rate_limited: true`, and the next error line says
 * how many were held back (`suppressed`).
 */
import type { RequestAuditRecord } from '@svcauth/core/internal'

export type AuditLevel = 'info' | 'warn' | 'error'

/** What the budget decided for one line. */
export interface LevelDecision {
  readonly level: AuditLevel
  /** Extra fields for the line (`rate_limited`, `suppressed`). */
  readonly fields: Readonly<Record<string, unknown>>
}

const NONE: Readonly<Record<string, unknown>> = Object.freeze({})

/** One error line per key per interval; the rest are demoted to warn and counted. */
export class ErrorBudget {
  readonly #interval: number
  readonly #windows = new Map<string, { start: number; suppressed: number }>()

  constructor(intervalMs: number) {
    this.#interval = intervalMs
  }

  take(key: string, now = performance.now()): LevelDecision {
    const window = this.#windows.get(key)
    if (window !== undefined && now - window.start < this.#interval) {
      window.suppressed += 1
      return { level: 'warn', fields: { rate_limited: true } }
    }
    this.#windows.set(key, { start: now, suppressed: 0 })
    // A handful of reasons exist, so the map stays tiny; drop stale windows anyway.
    if (this.#windows.size > 64) this.#sweep(now)
    return window !== undefined && window.suppressed > 0
      ? { level: 'error', fields: { suppressed: window.suppressed } }
      : { level: 'error', fields: NONE }
  }

  #sweep(now: number): void {
    for (const [key, w] of this.#windows)
      if (now - w.start >= this.#interval) this.#windows.delete(key)
  }
}

/** The level for a finished request, given its audit record and HTTP status. */
export function levelFor(
  record: RequestAuditRecord,
  status: number,
  failed: boolean,
  budget: ErrorBudget,
): LevelDecision {
  if (record.outcome === 'rejected') {
    if (status >= 500) return budget.take(record.reason ?? 'rejected')
    return { level: record.reason === 'missing_token' ? 'info' : 'warn', fields: NONE }
  }
  if (failed || status >= 500) return { level: 'error', fields: NONE }
  if (status >= 400) return { level: 'warn', fields: NONE }
  return { level: 'info', fields: NONE }
}
