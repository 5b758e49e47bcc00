/**
 * The logging seam. The core imports no logging library: pass a pino logger (or anything with
 * pino's `(object, message)` methods). Without one, start-up warnings go to `process.emitWarning`
 * and runtime events are dropped.
 */

/** The subset of pino's logger the core calls. */
export interface Logger {
  warn(obj: Record<string, unknown>, msg?: string): void
  error(obj: Record<string, unknown>, msg?: string): void
}

/** The default logger: warnings surface once through Node's warning channel; errors are dropped. */
export const defaultLogger: Logger = Object.freeze({
  warn(obj: Record<string, unknown>, msg?: string): void {
    process.emitWarning(msg ?? 'svcauth warning', {
      code: typeof obj.event === 'string' ? `SVCAUTH_${obj.event.toUpperCase()}` : 'SVCAUTH',
    })
  },
  error(): void {},
})
