/** The BSS-style example service. */
export { createBssApp } from './app.js'
export type { BootParams, Bss, BssOptions } from './app.js'
