export { createInventoryApp } from './inventory.js'
export { run } from './walkthrough.js'
export type { StepResult } from './walkthrough.js'
