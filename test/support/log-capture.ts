/**
 * A pino destination that keeps every line: the raw text (for leak checks) and the parsed JSON
 * (for assertions). pino writes one complete line per `write` call.
 */
export interface LogLine {
  readonly level: number
  readonly msg?: string
  readonly [key: string]: unknown
}

export interface LogCapture {
  readonly stream: { write(chunk: string): void }
  readonly raw: string[]
  readonly lines: LogLine[]
  /** Request lines (pino-http's, with `res`), in order. */
  requests(): LogLine[]
  /** Audit event lines (`msg: 'audit'`). */
  audits(): LogLine[]
  clear(): void
}

export const LEVEL = { info: 30, warn: 40, error: 50 } as const

export function captureLogs(): LogCapture {
  const raw: string[] = []
  const lines: LogLine[] = []
  return {
    raw,
    lines,
    stream: {
      write(chunk: string) {
        raw.push(chunk)
        for (const text of chunk.split('\n'))
          if (text !== '') lines.push(JSON.parse(text) as LogLine)
      },
    },
    requests: () => lines.filter((l) => l.res !== undefined),
    audits: () => lines.filter((l) => l.msg === 'audit'),
    clear() {
      raw.length = 0
      lines.length = 0
    },
  }
}
