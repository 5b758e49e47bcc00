/** The SMD-style example service. */
export { createSmdApp, problem } from './app.js'
export type { Smd, SmdOptions } from './app.js'
export { seed } from './data.js'
export type { Component, EthernetInterface } from './data.js'
