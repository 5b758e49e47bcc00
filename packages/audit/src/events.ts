/**
 * Business audit events: one `info` line per event with the same actor fields as request lines,
 * so `invoice_paid` by `billing-worker` reads like the requests that led to it. Details cannot
 * overwrite the actor fields or the event name (a key that would is dropped and listed), and are
 * masked by the same header list as request lines (`scrub.ts`).
 */
import { auditRecord, type AuditRecord, type Principal } from '@svcauth/core'
import { scrubDetails, scrubRules, type ScrubRules } from './scrub.js'

/** A service acting as itself with no inbound request (a worker, a cron job). */
export interface ServiceIdentity {
  readonly clientId: string
}

/** What is being acted on, plus any other JSON-serialisable details. */
export interface AuditDetails {
  readonly target?: string | undefined
  readonly [key: string]: unknown
}

/** The subset of a pino logger an audit event needs. */
export interface EventSink {
  info(obj: Record<string, unknown>, msg?: string): void
}

const RESERVED = new Set([
  'actor_type',
  'actor_id',
  'sub',
  'client_id',
  'act',
  'truncated',
  'event',
  'req_id',
  'outcome',
  'reason',
  'level',
  'time',
  'msg',
  'pid',
  'hostname',
])
const EVENT_NAME = /^[\w.:-]{1,128}$/

/**
 * Writes one audit line.
 *
 * @example
 * ```ts
 * auditEvent(logger, 'invoice_paid', { target: 'user-123' }, { clientId: 'billing-worker' })
 * // {"actor_type":"client","actor_id":"billing-worker","sub":"billing-worker","client_id":"billing-worker","event":"invoice_paid","target":"user-123",...}
 * ```
 */
export function auditEvent(
  logger: EventSink,
  event: string,
  details: AuditDetails = {},
  actor?: Principal | ServiceIdentity,
  reqId?: unknown,
): void {
  writeAuditEvent(logger, event, details, actor, reqId, DEFAULT_RULES)
}

const DEFAULT_RULES = scrubRules()

/**
 * {@link auditEvent} with the masking rules of an audit logger (its `redactHeaders` too): details
 * keyed like a credential header, and token-shaped strings, are masked (issue 14 R8).
 */
export function writeAuditEvent(
  logger: EventSink,
  event: string,
  details: AuditDetails | undefined,
  actor: Principal | ServiceIdentity | undefined,
  reqId: unknown,
  rules: ScrubRules,
): void {
  if (typeof event !== 'string' || !EVENT_NAME.test(event))
    throw new TypeError('svcauth audit: the event name must be 1-128 letters, digits, or . : _ -')
  const line: Record<string, unknown> = { ...actorFields(actor), event }
  const dropped: string[] = []
  for (const [key, value] of Object.entries(scrubDetails(details ?? {}, rules))) {
    if (RESERVED.has(key)) dropped.push(key)
    else line[key] = value
  }
  if (dropped.length > 0) line.dropped_keys = dropped
  if (reqId !== undefined) line.req_id = reqId
  logger.info(line, 'audit')
}

function actorFields(actor: Principal | ServiceIdentity | undefined): AuditRecord {
  if (actor !== undefined && !('actorType' in actor)) {
    const id = actor.clientId
    if (typeof id !== 'string' || id === '')
      throw new TypeError('svcauth audit: a service identity needs a clientId')
    return auditRecord({
      actorType: 'client',
      actorId: id,
      sub: id,
      clientId: id,
      act: undefined,
    } as Principal)
  }
  return auditRecord(actor)
}
