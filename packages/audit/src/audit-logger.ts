/**
 * `createAuditLogger()`: pino-http set up for svcauth, shared by the Express and Koa adapters.
 * Secrets are masked by the serializers (so even a user-supplied logger without redaction is
 * safe), and pino `redact` paths are added when svcauth creates the logger. Actor fields are added
 * when the response finishes (pino-http's `customSuccessObject` / `customErrorObject`), not through
 * `customProps`, which pino-http also evaluates at request start, before authentication ran, and
 * would write the fields twice.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { currentAuthContext, enableRequestContext, type Principal } from '@svcauth/core'
import {
  activePrincipal,
  outcomeOf,
  requestAuditRecord,
  type RequestAuditRecord,
} from '@svcauth/core/internal'
import type { Logger } from 'pino'
import { pinoHttp, type HttpLogger, type Options } from 'pino-http'
import { writeAuditEvent, type AuditDetails, type ServiceIdentity } from './events.js'
import { ErrorBudget, levelFor, type LevelDecision } from './levels.js'
import { scrubHeaders, scrubQuery, scrubRules, scrubUrl, type ScrubRules } from './scrub.js'

/** Options of `auditLogger()`: pino-http's, minus the hooks svcauth owns, plus redaction settings. */
export interface AuditLoggerOptions extends Omit<
  Options,
  | 'customLogLevel'
  | 'customSuccessObject'
  | 'customErrorObject'
  | 'customSuccessMessage'
  | 'customErrorMessage'
  | 'useLevel'
  | 'wrapSerializers'
> {
  /** Your pino logger; without one, svcauth creates one (with `redact`) writing to `stream` or stdout. */
  logger?: Logger
  /** More request/response headers to mask (the defaults cover Authorization, Cookie, API keys). */
  redactHeaders?: readonly string[]
  /** More query parameters to mask (the defaults cover access_token, code, client_secret, …). */
  redactQueryParams?: readonly string[]
  /** Authentication outages log one `error` line per reason per this many ms. @default 10000 */
  errorInterval?: number
  /**
   * This service's own identity, for audit events no request caller stands behind: events outside
   * any request, and events from work that outlives the request it started in (after its
   * response finished). Without it such events are `anonymous`; never the request's user.
   */
  service?: ServiceIdentity
}

/** What an adapter passes in: how to find the matched route of a finished request. */
export interface AuditHooks {
  routeOf?(req: IncomingMessage): string | undefined
}

/** The built audit logger: the pino-http middleware and a business-event writer. */
export interface AuditLogger {
  /** pino-http's middleware: `(req, res, next?)`. */
  readonly http: HttpLogger
  /** The logger request and audit lines go to. */
  readonly logger: Logger
  /**
   * Writes one audit line attributed to the request's caller, or to the service (`service`)
   * once the request's response has finished.
   */
  event(req: IncomingMessage, event: string, details?: AuditDetails): void
  /**
   * Writes one audit line attributed to `actor`, else the caller of the current request, else
   * (outside any request, or after it ended) the service.
   */
  eventAs(
    actor: Principal | ServiceIdentity | undefined,
    event: string,
    details?: AuditDetails,
  ): void
}

/**
 * The pino-http options svcauth uses: masking serializers, redact paths (when svcauth creates the
 * logger), and the named hooks `customLogLevel: levelFor` and `customSuccessObject` /
 * `customErrorObject: actorFields`. For a server svcauth has no adapter for.
 *
 * @example
 * ```ts
 * import { pinoHttp } from 'pino-http'
 * const log = pinoHttp(auditHttpOptions({ level: 'info' }))
 * ```
 */
export function auditHttpOptions(
  options: AuditLoggerOptions = {},
  hooks: AuditHooks = {},
): Options {
  const {
    redactHeaders,
    redactQueryParams,
    errorInterval,
    service: _service,
    ...httpOptions
  } = options
  const interval = errorInterval ?? 10_000
  if (!Number.isFinite(interval) || interval < 0)
    throw new TypeError('svcauth audit: errorInterval must be a non-negative number of ms')
  const rules = scrubRules(redactHeaders, redactQueryParams)
  const budget = new ErrorBudget(interval)
  const decisions = new WeakMap<
    ServerResponse,
    { record: RequestAuditRecord; level: LevelDecision }
  >()

  function levelOf(req: IncomingMessage, res: ServerResponse, err?: Error) {
    const record = requestAuditRecord(outcomeOf(req))
    const level = levelFor(record, res.statusCode, err !== undefined, budget)
    decisions.set(res, { record, level })
    return level.level
  }
  function actorFields(req: IncomingMessage, res: ServerResponse): Record<string, unknown> {
    const decided = decisions.get(res) ?? {
      record: requestAuditRecord(outcomeOf(req)),
      level: { level: 'info', fields: {} },
    }
    const route = hooks.routeOf?.(req)
    return {
      ...decided.record,
      ...(decided.record.outcome === 'rejected' ? { event: 'auth.rejected' } : {}),
      ...(route === undefined ? {} : { route: scrubUrl(route, rules) }),
      req_id: req.id,
      ...decided.level.fields,
    }
  }
  const rejected = (req: IncomingMessage): boolean => outcomeOf(req)?.result === 'rejected'

  const userSerializers = httpOptions.serializers ?? {}
  const config: Options = {
    ...httpOptions,
    serializers: {
      ...userSerializers,
      req: serializeRequest(userSerializers.req, rules),
      res: serializeResponse(userSerializers.res, rules),
    },
    customLogLevel: levelOf,
    customSuccessObject: (req, res, val: Record<string, unknown>) => ({
      ...actorFields(req, res),
      ...val,
    }),
    customErrorObject: (req, res, _err, val: Record<string, unknown>) => {
      const fields = actorFields(req, res)
      // An auth rejection's 503 is explained by `reason`; pino-http's synthetic error adds a stack.
      if (rejected(req)) {
        const { err: _drop, ...rest } = val
        return { ...fields, ...rest }
      }
      return { ...fields, ...val }
    },
    customSuccessMessage: (req, res) =>
      rejected(req)
        ? 'request rejected'
        : !req.readableAborted && res.writableEnded
          ? 'request completed'
          : 'request aborted',
    customErrorMessage: (req) => (rejected(req) ? 'request rejected' : 'request errored'),
  }
  if (options.logger === undefined) {
    const own = httpOptions.redact
    const paths = Array.isArray(own) ? own : (own?.paths ?? [])
    config.redact = {
      ...(Array.isArray(own) || own === undefined ? {} : own),
      paths: [
        ...paths,
        // The serializers' list (with `redactHeaders`), so other lines that carry headers are
        // covered by the same names.
        ...[...rules.headers].flatMap((h) => [
          `req.headers[${JSON.stringify(h)}]`,
          `res.headers[${JSON.stringify(h)}]`,
          `headers[${JSON.stringify(h)}]`,
        ]),
      ],
    }
  }
  return config
}

/**
 * Builds pino-http with svcauth's options and an audit-event writer on the same logger. The
 * adapters' `auditLogger()` wraps it.
 *
 * @example
 * ```ts
 * const audit = createAuditLogger({ level: 'info' })
 * server.on('request', (req, res) => { audit.http(req, res) })
 * ```
 */
export function createAuditLogger(
  options: AuditLoggerOptions = {},
  hooks: AuditHooks = {},
): AuditLogger {
  const { service, ...httpOptions } = options
  if (
    service !== undefined &&
    (typeof service !== 'object' || typeof service.clientId !== 'string' || service.clientId === '')
  ) {
    throw new TypeError('svcauth audit: service must be { clientId: string }')
  }
  // `eventAs` without an actor names the request's caller from the request context: requests run
  // inside it from now on (issue 17).
  enableRequestContext()
  const http = pinoHttp(auditHttpOptions(httpOptions, hooks))
  const rules = scrubRules(options.redactHeaders, options.redactQueryParams)
  const logger = http.logger as unknown as Logger
  return {
    http,
    logger,
    event(req, event, details) {
      // The request's caller until its response ends; after that the service (issue 14).
      const caller = outcomeOf(req)?.principal
      const actor = caller !== undefined && activePrincipal(req) === undefined ? service : caller
      writeAuditEvent(logger, event, details, actor, req.id, rules)
    },
    eventAs(actor, event, details) {
      const context = currentAuthContext()
      writeAuditEvent(
        logger,
        event,
        details,
        actor ?? (context === undefined ? service : context.principal),
        undefined,
        rules,
      )
    },
  }
}

type Serializer = (value: never) => unknown

function serializeRequest(user: Serializer | undefined, rules: ScrubRules) {
  return function svcauthRequest(req: Record<string, unknown>): unknown {
    const base: unknown = user === undefined ? req : user(req as never)
    if (!isRecord(base)) return base
    const out: Record<string, unknown> = { ...base }
    if (typeof out.url === 'string') out.url = scrubUrl(out.url, rules)
    if ('query' in out) out.query = scrubQuery(out.query, rules)
    if ('headers' in out) out.headers = scrubHeaders(out.headers, rules)
    return out
  }
}

function serializeResponse(user: Serializer | undefined, rules: ScrubRules) {
  return function svcauthResponse(res: Record<string, unknown>): unknown {
    const base: unknown = user === undefined ? res : user(res as never)
    if (!isRecord(base)) return base
    return 'headers' in base ? { ...base, headers: scrubHeaders(base.headers, rules) } : base
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object'
}
