/**
 * Client registration's public surface, listed by name (index.ts re-exports it): RFC 7591/7592
 * and Hydra admin calls (registration/protocol.ts), the RegistrationError (registration/errors.ts),
 * the credentials file (registration/credentials.ts) and the types (registration/types.ts).
 */
export { loadCredentials, loadOrRegister, saveCredentials } from './registration/credentials.js'
export { isRegistrationError, RegistrationError } from './registration/errors.js'
export type { RegistrationErrorCode } from './registration/errors.js'
export {
  deleteClient,
  readClient,
  registerClient,
  rotateClientSecret,
  updateClient,
} from './registration/protocol.js'
export type {
  ClientHandle,
  ClientMetadata,
  RegisteredClient,
  RegistrationOptions,
} from './registration/types.js'
