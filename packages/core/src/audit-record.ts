/**
 * The audit record: who a request (or a business event) is attributed to, as flat snake_case
 * fields for log lines. Built only from a verified Principal, so a rejected token attributes
 * nothing (catalogue I4). Identity strings come from tokens, so they are bounded and stripped of
 * control and line-separator characters before they reach a log (catalogue I5).
 */
import type { AuthOutcome } from './adapter.js'
import type { AuthErrorReason } from './errors.js'
import type { Actor, Principal } from './principal.js'

/** One link of the RFC 8693 actor chain, as logged. */
export interface AuditActor {
  readonly sub: string
  readonly client_id?: string
  readonly act?: AuditActor
}

/** The actor fields every request line and audit event carries. */
export interface AuditRecord {
  readonly actor_type: 'user' | 'client' | 'anonymous'
  /** `client_id` for a client, `sub` for a user, null when anonymous. */
  readonly actor_id: string | null
  readonly sub: string | null
  readonly client_id: string | null
  /** The acting service(s) of a delegated token. */
  readonly act?: AuditActor
  /** Present when a field was cut to the length limit or the actor chain was cut short. */
  readonly truncated?: true
}

/** The request-level fields: the actor, plus how authentication ended. */
export interface RequestAuditRecord extends AuditRecord {
  /** `none` when no svcauth middleware ran for the request (a public route, a 404). */
  readonly outcome: AuthOutcome['result'] | 'none'
  readonly reason?: AuthErrorReason
}

/** Longest identity string logged. */
export const AUDIT_FIELD_LIMIT = 256
const ACT_DEPTH_LIMIT = 4
// C0/C1 controls (ANSI escapes included) and U+2028/U+2029, which some viewers treat as newlines.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

const ANONYMOUS: AuditRecord = Object.freeze({
  actor_type: 'anonymous',
  actor_id: null,
  sub: null,
  client_id: null,
})

/**
 * The actor fields for a verified caller (or `anonymous` for none).
 *
 * @example
 * ```ts
 * logger.info({ ...auditRecord(req.auth), event: 'invoice_paid', target: 'user-123' })
 * ```
 */
export function auditRecord(principal: Principal | undefined): AuditRecord {
  if (principal === undefined) return ANONYMOUS
  const cut = { truncated: false }
  const record: Record<string, unknown> = {
    actor_type: principal.actorType,
    actor_id: clean(principal.actorId, cut),
    sub: principal.sub === undefined ? null : clean(principal.sub, cut),
    client_id: principal.clientId === undefined ? null : clean(principal.clientId, cut),
  }
  if (principal.act !== undefined) record.act = actorChain(principal.act, 1, cut)
  if (cut.truncated) record.truncated = true
  return record as unknown as AuditRecord
}

/** The actor fields plus the outcome and rejection reason of a request. */
export function requestAuditRecord(outcome: AuthOutcome | undefined): RequestAuditRecord {
  const base = auditRecord(outcome?.principal)
  if (outcome === undefined) return { ...base, outcome: 'none' }
  return outcome.reason === undefined
    ? { ...base, outcome: outcome.result }
    : { ...base, outcome: outcome.result, reason: outcome.reason }
}

function actorChain(act: Actor, depth: number, cut: { truncated: boolean }): AuditActor {
  const link: { sub: string; client_id?: string; act?: AuditActor } = { sub: clean(act.sub, cut) }
  if (act.clientId !== undefined) link.client_id = clean(act.clientId, cut)
  if (act.act !== undefined) {
    if (depth < ACT_DEPTH_LIMIT) link.act = actorChain(act.act, depth + 1, cut)
    else cut.truncated = true
  }
  return link
}

function clean(value: string, cut: { truncated: boolean }): string {
  let out = value
  if (out.length > AUDIT_FIELD_LIMIT) {
    // Do not split a surrogate pair.
    out = out.slice(
      0,
      /[\ud800-\udbff]/.test(out[AUDIT_FIELD_LIMIT - 1] ?? '')
        ? AUDIT_FIELD_LIMIT - 1
        : AUDIT_FIELD_LIMIT,
    )
    cut.truncated = true
  }
  return out.replace(UNPRINTABLE, '\uFFFD')
}
