/**
 * The logging seam. The core imports no logging library: pass a pino logger (or anything with
 * pino's `(object, message)` methods). Without one, every infrastructure failure and start-up
 * warning becomes a Node process warning (`process.emitWarning`, Node docs "Process: Event
 * 'warning'") with a stable `SVCAUTH_…` code per condition, rate-limited per condition (issue 16,
 * item 1): a silent failure costs an operator more than a warning line does.
 */

/** The subset of pino's logger the core calls. */
export interface Logger {
  warn(obj: Record<string, unknown>, msg?: string): void
  error(obj: Record<string, unknown>, msg?: string): void
}

/**
 * The documented warning codes, by logged event. An event that is not here (a refused forward,
 * a rejected cached token: answered to the caller already) is not a process warning. A logged
 * object may name its condition more finely with its own `code` field (a key-set failure says
 * whether the keys were unreachable, unparsable or the discovery metadata named another issuer).
 */
export const WARNING_CODES: Readonly<Record<string, string>> = Object.freeze({
  audience_check_disabled: 'SVCAUTH_AUDIENCE_CHECK_DISABLED',
  jwks_fetch_failed: 'SVCAUTH_JWKS_FETCH_FAILED',
  jwks_invalid: 'SVCAUTH_JWKS_INVALID',
  issuer_mismatch: 'SVCAUTH_ISSUER_MISMATCH',
  discovery_failed: 'SVCAUTH_DISCOVERY_FAILED',
  jwks_discovery_failed: 'SVCAUTH_DISCOVERY_FAILED',
  jwks_uri_changed: 'SVCAUTH_JWKS_URI_CHANGED',
  keys_file_invalid: 'SVCAUTH_KEYS_FILE_INVALID',
  keys_file_unreadable: 'SVCAUTH_KEYS_FILE_UNREADABLE',
  introspection_failed: 'SVCAUTH_INTROSPECTION_FAILED',
  issuer_resolver_failed: 'SVCAUTH_ISSUER_RESOLVER_FAILED',
  issuer_resolver_mismatch: 'SVCAUTH_ISSUER_RESOLVER_MISMATCH',
  revocation_check_failed: 'SVCAUTH_REVOCATION_CHECK_FAILED',
  // @svcauth/redis (issue 21): Redis down or slow (a store used its fallback), a value that does not
  // decrypt with the configured keys, the revocation mirror full.
  redis_unavailable: 'SVCAUTH_REDIS_UNAVAILABLE',
  redis_value_invalid: 'SVCAUTH_REDIS_VALUE_INVALID',
  redis_revocations_full: 'SVCAUTH_REDIS_REVOCATIONS_FULL',
  token_fetch_failed: 'SVCAUTH_TOKEN_REQUEST_FAILED',
  token_refresh_failed: 'SVCAUTH_TOKEN_REFRESH_FAILED',
  token_endpoint_discovery_failed: 'SVCAUTH_DISCOVERY_FAILED',
})

/**
 * The only fields copied into a warning's text: addresses (a key file's path too), identifiers of
 * the issuer and the client, and svcauth's own error descriptions. Never `sub`, a token or a secret, whatever else
 * the logged object carries.
 */
const SHOWN = [
  'issuer',
  'jwks_uri',
  'keys_file',
  'from',
  'to',
  'endpoint',
  'token_endpoint',
  'client_id',
  'target',
  'error',
  'status',
  'store',
] as const

/** What the condition of one warning is keyed on, besides its code. */
const KEYED = ['issuer', 'client_id', 'target', 'store'] as const

export interface WarningLoggerOptions {
  /** Least time between two warnings of one condition, ms. @default 60000 */
  interval?: number
  /** The clock, ms (monotonic). @default performance.now */
  now?: () => number
}

/**
 * A Logger that turns the events of {@link WARNING_CODES} into Node process warnings: one per
 * condition (code, issuer, client, target) per `interval`; the next one says how many were
 * suppressed in between. `defaultLogger` is one of these.
 *
 * @example
 * ```ts
 * process.on('warning', (w) => { if ((w as { code?: string }).code?.startsWith('SVCAUTH_')) alert(w) })
 * const auth = createAuthenticator({ issuer, audience: 'smd', logger: createWarningLogger() })
 * ```
 */
export function createWarningLogger(options: WarningLoggerOptions = {}): Logger {
  const interval = options.interval ?? 60_000
  const now = options.now ?? (() => performance.now())
  const conditions = new Map<string, { last: number; suppressed: number }>()
  const emit = (obj: Record<string, unknown>, msg: string | undefined): void => {
    const own = obj.code
    const code =
      typeof own === 'string' && own.startsWith('SVCAUTH_')
        ? own
        : typeof obj.event === 'string'
          ? WARNING_CODES[obj.event]
          : undefined
    if (code === undefined) return
    const key = [code, ...KEYED.map((f) => (typeof obj[f] === 'string' ? obj[f] : ''))].join('\0')
    const t = now()
    const seen = conditions.get(key)
    if (seen !== undefined && t - seen.last < interval) {
      seen.suppressed += 1
      return
    }
    const suppressed = seen?.suppressed ?? 0
    conditions.set(key, { last: t, suppressed: 0 })
    process.emitWarning(describe(obj, msg, suppressed, interval), { code })
  }
  return Object.freeze({ warn: emit, error: emit })
}

function describe(
  obj: Record<string, unknown>,
  msg: string | undefined,
  suppressed: number,
  interval: number,
): string {
  const details: string[] = []
  for (const field of SHOWN) {
    const value = obj[field]
    if (typeof value === 'string' || typeof value === 'number') details.push(`${field}=${value}`)
  }
  let text = msg ?? 'svcauth warning'
  if (details.length > 0) text += ` (${details.join(', ')})`
  if (suppressed > 0) {
    text += `; ${suppressed} more like it in the last ${Math.round(interval / 1000)} s`
  }
  return text
}

/** The default logger: process warnings, rate-limited per condition (see createWarningLogger). */
export const defaultLogger: Logger = createWarningLogger()
