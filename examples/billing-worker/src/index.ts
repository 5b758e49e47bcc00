/** The billing-worker example. */
export { createBillingWorker } from './worker.js'
export type { BillingWorker, BillingWorkerOptions, Invoice, RunResult } from './worker.js'
