/**
 * A billing worker: no HTTP server of its own, no user in sight. Each run reads the node
 * inventory from SMD with the worker's own client-credentials token, bills each node's account
 * for the period and writes one `invoice_paid` audit line per invoice, attributed to the worker's
 * client id. When no token can be had (the token endpoint is down and nothing valid is cached),
 * the run fails closed: nothing is billed, a warning is logged, and the next run is scheduled
 * after `retryDelay`.
 */
import { auditEvent } from '@svcauth/audit'
import { isTokenEndpointError, type ServiceClient } from '@svcauth/client'
import type { Logger } from 'pino'

export interface BillingWorkerOptions {
  /** The outbound client; `apiUrl` is one of its targets. */
  readonly svc: ServiceClient
  /** The worker's client id, for its audit lines. */
  readonly clientId: string
  /** SMD's origin. */
  readonly apiUrl: string
  readonly logger: Logger
  /** Price per node per run, in cents. @default 125 */
  readonly rate?: number
  /** Wait after a failed run, ms. @default 30000 */
  readonly retryDelay?: number
  /** Wait between successful runs, ms. @default 3600000 */
  readonly interval?: number
}

export type RunResult =
  | { readonly ok: true; readonly invoices: readonly Invoice[] }
  | { readonly ok: false; readonly reason: string; readonly retryIn: number }

export interface Invoice {
  readonly account: string
  readonly amount: number
}

export interface BillingWorker {
  /** One billing run. */
  runOnce(): Promise<RunResult>
  /** Runs now, then on `interval` (or `retryDelay` after a failure) until `stop()`. */
  start(): void
  stop(): void
}

/**
 * Builds the worker.
 *
 * @example
 * ```ts
 * const svc = createServiceClient({ issuer, clientId: 'billing-worker', clientSecret, targets: { [smdUrl]: { scope: ['smd.read'], audience: 'smd' } } })
 * createBillingWorker({ svc, clientId: 'billing-worker', apiUrl: smdUrl, logger: pino() }).start()
 * ```
 */
export function createBillingWorker(options: BillingWorkerOptions): BillingWorker {
  const { svc, clientId, apiUrl, logger } = options
  const rate = options.rate ?? 125
  const retryDelay = options.retryDelay ?? 30_000
  const interval = options.interval ?? 3_600_000
  let timer: NodeJS.Timeout | undefined
  let stopped = true

  async function runOnce(): Promise<RunResult> {
    let res: Awaited<ReturnType<ServiceClient['fetch']>>
    try {
      res = await svc.fetch(`${apiUrl}/hsm/v2/State/Components?type=Node`)
    } catch (err) {
      // fetch() wraps what the dispatcher raised: the TokenEndpointError is the cause.
      const cause: unknown = err instanceof TypeError && err.cause !== undefined ? err.cause : err
      const reason = isTokenEndpointError(cause) ? `no token: ${cause.error}` : 'SMD unreachable'
      logger.warn(
        { event: 'billing_run_deferred', reason, retry_in_ms: retryDelay },
        'billing run deferred',
      )
      return { ok: false, reason, retryIn: retryDelay }
    }
    if (res.status !== 200) {
      await res.body?.cancel()
      const reason = `SMD answered ${res.status}`
      logger.warn(
        { event: 'billing_run_deferred', reason, retry_in_ms: retryDelay },
        'billing run deferred',
      )
      return { ok: false, reason, retryIn: retryDelay }
    }
    const { Components } = (await res.json()) as { Components: { ID: string; State: string }[] }
    const invoices = Components.filter((c) => c.State === 'Ready').map((c) => ({
      account: `project-${c.ID.slice(0, 5)}`,
      node: c.ID,
    }))
    const totals = new Map<string, number>()
    for (const i of invoices) totals.set(i.account, (totals.get(i.account) ?? 0) + rate)
    const paid = [...totals].map(([account, amount]) => ({ account, amount }))
    for (const invoice of paid) {
      auditEvent(
        logger,
        'invoice_paid',
        { target: invoice.account, amount_cents: invoice.amount },
        { clientId },
      )
    }
    return { ok: true, invoices: paid }
  }

  const loop = (): void => {
    if (stopped) return
    void runOnce().then((result) => {
      if (!stopped) timer = setTimeout(loop, result.ok ? interval : result.retryIn)
    })
  }

  return {
    runOnce,
    start() {
      if (!stopped) return
      stopped = false
      loop()
    },
    stop() {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
    },
  }
}
