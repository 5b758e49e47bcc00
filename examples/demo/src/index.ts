/** The demo and the authorization server it runs (also used by the interop tests). */
export {
  generateSigningKey,
  LOOPBACK_REDIRECT,
  restartProvider,
  startProvider,
} from './authorization-server.js'
export type {
  ProviderClient,
  ResourceConfig,
  RunningProvider,
  StartOptions,
} from './authorization-server.js'
export { runDemo } from './demo.js'
export type { StepResult } from './demo.js'
export { loginWithPassword } from './login.js'
export type { LoginOptions } from './login.js'
