/**
 * Who the client is at the token endpoint: the configured `clientId` and secret, or, with
 * `registration`, a client registered on first use (RFC 7591 or Hydra's admin API, through
 * loadOrRegister and its credentials file). The registration runs once, before the first token
 * request and never at construction, so a service starts while its authorization server is down;
 * concurrent callers share it, and a failure is retried by the next token request.
 */
import { TokenEndpointError } from './errors.js'
import { isTlsAuthMethod } from './lib/client-auth.js'
import type { SecretSource } from './options.js'
import { loadOrRegister } from './registration/credentials.js'
import type { RegisteredClient } from './registration/types.js'
import type { ResolvedOptions } from './resolve-options.js'
import { SecretRing } from './secrets.js'

export class ClientIdentity {
  readonly #options: ResolvedOptions
  #id: string
  #registered: Promise<RegisteredClient> | undefined
  /** The secrets of the client_secret_* methods (a registered client's as a provider). */
  readonly secrets: SecretRing | undefined

  constructor(options: ResolvedOptions) {
    this.#options = options
    this.#id = options.clientId
    const secret: SecretSource | undefined =
      options.clientSecret ??
      (options.registration === undefined ? undefined : () => this.#registeredSecret())
    // private_key_jwt signs, and the TLS methods (RFC 8705 §2) present a certificate: no secret.
    this.secrets =
      options.authMethod === 'private_key_jwt' ||
      isTlsAuthMethod(options.authMethod) ||
      secret === undefined
        ? undefined
        : new SecretRing(secret)
  }

  /** The client id: the configured one, then the registered one once registration is done. */
  get id(): string {
    return this.#id
  }

  /**
   * Without `registration`, undefined. With it: the stored credentials, or a registration saved
   * for later starts, made once; a failure is a TokenEndpointError('invalid_client') with the
   * RegistrationError as its cause, and the next call tries again.
   */
  ready(): Promise<RegisteredClient> | undefined {
    const { registration, authMethod, logger } = this.#options
    if (registration === undefined) return undefined
    this.#registered ??= loadOrRegister(registration.credentialsFile, {
      ...registration,
      metadata: {
        token_endpoint_auth_method: authMethod,
        ...registration.metadata,
      },
    }).then(
      (client) => {
        this.#id = client.clientId
        logger?.info?.(
          { event: 'client_ready', client_id: client.clientId },
          'svcauth: client credentials ready',
        )
        return client
      },
      (err: unknown) => {
        this.#registered = undefined
        throw new TokenEndpointError('invalid_client', {
          description: 'client registration failed',
          cause: err,
        })
      },
    )
    return this.#registered
  }

  async #registeredSecret(): Promise<string> {
    const secret = (await this.ready())?.clientSecret
    if (secret === undefined) {
      throw new TokenEndpointError('invalid_client', {
        description: 'the registration returned no client secret',
      })
    }
    return secret
  }
}
