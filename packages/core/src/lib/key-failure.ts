/**
 * Why an issuer's keys could not be had, as one stable condition per failure (issue 16, items 1
 * and 2): the same name is the `reason` of `authenticator.status()`'s `lastFailure` and, through
 * the logged `code`, the `SVCAUTH_…` code of the process warning when no logger is configured.
 */
import { DiscoveryError } from './discovery.js'
import { HttpError } from './http.js'

/**
 * The conditions of a failed key fetch, or of a key file (issue 20, item 1) that could not be
 * read (`keys_file_unreadable`) or holds no usable key set (`keys_file_invalid`).
 */
export type KeyFailureReason =
  | 'jwks_fetch_failed'
  | 'jwks_invalid'
  | 'issuer_mismatch'
  | 'discovery_failed'
  | 'keys_file_invalid'
  | 'keys_file_unreadable'

/** One recorded failure: its condition, svcauth's own description, and when it happened. */
export interface KeyFailure {
  readonly reason: KeyFailureReason
  readonly message: string
  readonly at: Date
}

/** One issuer's key state, for readiness probes and dashboards (issue 16, item 2). */
export interface KeyStatus {
  readonly issuer: string
  /**
   * The JWKS address in use: configured, or the last one discovered; undefined before discovery,
   * and for keys given offline (`keys`, `keysFile`).
   */
  readonly jwksUri: string | undefined
  /** The key file read (`keysFile`, as an absolute path); absent for other key sources. */
  readonly keysFile?: string
  /** How many keys the last good key set holds (0 before the first one). */
  readonly keys: number
  /** When the last good key set was fetched (installed, for keys given offline). */
  readonly fetchedAt: Date | undefined
  /**
   * The last failed fetch, discovery or key-file read, kept after a recovery (compare `at` with
   * `fetchedAt`).
   */
  readonly lastFailure?: KeyFailure
}

/** A key set that was fetched but is not a usable JWKS (not JSON, no `keys`, private members…). */
export class InvalidKeySetError extends Error {
  readonly code = 'jwks_invalid'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'InvalidKeySetError'
  }
}

/** Marks a failure of the discovery step (anything but a DiscoveryError is `discovery_failed`). */
export function asDiscoveryFailure(err: unknown): DiscoveryError {
  if (err instanceof DiscoveryError) return err
  const message = err instanceof Error ? err.message : 'unknown error'
  return new DiscoveryError('discovery_failed', `discovery failed: ${message}`, { cause: err })
}

/** Marks a failure of the key-set step: an unparsable body is `jwks_invalid`. */
export function asKeySetFailure(err: unknown): unknown {
  if (err instanceof HttpError && err.kind === 'bad_json') {
    return new InvalidKeySetError(`JWKS ${err.message}`, { cause: err })
  }
  return err
}

/** The condition and description of a failure thrown by a key fetch. */
export function keyFailure(err: unknown): KeyFailure {
  const message = err instanceof Error ? err.message : 'unknown error'
  let reason: KeyFailureReason = 'jwks_fetch_failed'
  if (err instanceof DiscoveryError) reason = err.code
  else if (err instanceof InvalidKeySetError) reason = 'jwks_invalid'
  return Object.freeze({ reason, message, at: new Date() })
}

/** The process-warning code of a condition (`SVCAUTH_JWKS_INVALID`, …). */
export function warningCode(reason: KeyFailureReason): string {
  return `SVCAUTH_${reason.toUpperCase()}`
}
