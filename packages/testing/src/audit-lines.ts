/**
 * Capturing svcauth's log lines in tests (issue 16, item 8): a destination to pass as the
 * `stream` of `auditLogger()` (or of `pino()` for `createAuditLogger`) that keeps every line,
 * raw and parsed. pino writes one complete JSON line per `write` call (pino docs, "Destinations"),
 * so no buffering is needed. No dependency: the stream is a plain `{ write }` object.
 */

/** One parsed log line: pino's numeric `level`, `msg`, and the actor fields of svcauth's lines. */
export interface AuditLine {
  readonly level: number
  readonly msg?: string
  readonly [key: string]: unknown
}

/** What {@link captureAuditLines} returns. */
export interface AuditCapture {
  /** Pass as `auditLogger({ stream })`. */
  readonly stream: { write(chunk: string): void }
  /** Every line as written, for leak checks (`expect(raw.join('')).not.toContain(token)`). */
  readonly raw: string[]
  /** Every line, parsed. */
  readonly lines: AuditLine[]
  /** Request lines (pino-http's, the ones with `res`), in order. */
  requests(): AuditLine[]
  /** Audit event lines (`req.audit(…)` / `ctx.audit(…)`, `msg: 'audit'`), in order. */
  audits(): AuditLine[]
  /** Forgets every line captured so far. */
  clear(): void
}

/**
 * A log destination that keeps what svcauth's audit logger writes, for assertions.
 *
 * @example
 * ```ts
 * const logs = captureAuditLines()
 * app.use(auditLogger({ stream: logs.stream }))
 * // … make a request …
 * expect(logs.requests()[0]).toMatchObject({ actor_type: 'client', actor_id: 'billing-worker' })
 * expect(logs.audits()[0]).toMatchObject({ event: 'invoice_paid', target: 'user-123' })
 * ```
 */
export function captureAuditLines(): AuditCapture {
  const raw: string[] = []
  const lines: AuditLine[] = []
  return Object.freeze({
    raw,
    lines,
    stream: Object.freeze({
      write(chunk: string): void {
        raw.push(chunk)
        for (const text of chunk.split('\n')) {
          if (text !== '') lines.push(JSON.parse(text) as AuditLine)
        }
      },
    }),
    requests: () => lines.filter((l) => l.res !== undefined),
    audits: () => lines.filter((l) => l.msg === 'audit'),
    clear(): void {
      raw.length = 0
      lines.length = 0
    },
  })
}
