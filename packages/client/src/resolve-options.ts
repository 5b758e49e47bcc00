/**
 * Option resolution for createServiceClient: every check, at construction. A mistake is a
 * TypeError naming the option (a zero timeout, cache size or lifetime included: none of them
 * makes sense, and a patched-up value would hide the mistake); the result is defaulted and
 * frozen, and the rest of the client reads only it.
 */
import type { KeyObject } from 'node:crypto'
import { defaultLogger } from '@svcauth/core'
import {
  assertUrl,
  resolveHttpAllowance,
  resolveStores,
  type HttpAllowance,
} from '@svcauth/core/internal'
import type { CryptoKey, JWK } from 'jose'
import type { Dispatcher } from 'undici'
import { isTlsAuthMethod, type AssertionKey, type AuthMethod } from './lib/client-auth.js'
import { resolveDpopKey, type DpopKey } from './lib/dpop-key.js'
import { numberIn, optionError } from './lib/option-checks.js'
import { resolveTls, type TlsConfig } from './lib/tls-options.js'
import type { TokenLimits } from './lib/token-request.js'
import type { ClientLogger, SecretSource, ServiceClientOptions } from './options.js'
import { checkRegistrationOptions } from './registration/protocol.js'
import type { RegistrationOptions } from './registration/types.js'
import type { ClientStores } from './shared-tokens.js'
import { resolveTargets, type ResolvedTarget } from './targets.js'
import type { DiscoveryTiming } from './token-endpoint.js'
import type { TokenSourceOptions } from './token-source.js'

const AUTH_METHODS: readonly AuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
]

/** The options once checked: what the client's parts are built from. */
export interface ResolvedOptions {
  /** The configured client id; '' when `registration` supplies it. */
  readonly clientId: string
  readonly registration: (RegistrationOptions & { readonly credentialsFile: string }) | undefined
  readonly authMethod: AuthMethod
  readonly clientSecret: SecretSource | undefined
  /** The `private_key_jwt` signing key with its `alg` and `kid` (RFC 7523), when configured. */
  readonly assertionKey: AssertionKey | undefined
  /** `aud` of client assertions; undefined: the token endpoint URL. */
  readonly assertionAudience: string | undefined
  /** The configured token endpoint, checked; undefined when it is discovered from `issuer`. */
  readonly tokenEndpoint: string | undefined
  readonly issuer: string | undefined
  readonly allowInsecureHttp: HttpAllowance
  readonly targets: ReadonlyMap<string, ResolvedTarget>
  /** The DPoP key (RFC 9449), generated or given; undefined when `dpop` is off. */
  readonly dpop: DpopKey | undefined
  /** The client's mutual TLS (RFC 8705), its files read and checked; undefined without `tls`. */
  readonly tls: TlsConfig | undefined
  /** Timeout, byte cap and dispatcher of token requests (and of discovery). */
  readonly limits: TokenLimits
  readonly cache: TokenSourceOptions
  readonly discovery: DiscoveryTiming
  readonly maxReplayBytes: number
  readonly dispatcher: Dispatcher | undefined
  readonly logger: ClientLogger | undefined
  /** The fleet's shared token cache and lock (issue 21); undefined without `stores.tokens`. */
  readonly stores: ClientStores | undefined
}

/** Checks `options` and returns them resolved and frozen; throws a TypeError on a mistake. */
export function resolveOptions(options: ServiceClientOptions): ResolvedOptions {
  const given: unknown = options
  if (typeof given !== 'object' || given === null) optionError('options must be an object')
  // Registration talks to the same authorization server: it inherits the client's allowance.
  const registration =
    options.registration === undefined ||
    options.registration.allowInsecureHttp !== undefined ||
    options.allowInsecureHttp === undefined
      ? options.registration
      : { ...options.registration, allowInsecureHttp: options.allowInsecureHttp }
  if (registration === undefined && (options.clientId === undefined || options.clientId === '')) {
    optionError('clientId is required (or registration, to register the client on first start)')
  }
  if (options.clientId !== undefined && typeof options.clientId !== 'string') {
    optionError('clientId must be a string')
  }
  if (registration !== undefined) {
    if (typeof registration.credentialsFile !== 'string' || registration.credentialsFile === '') {
      optionError('registration.credentialsFile is required')
    }
    checkRegistrationOptions(registration)
  }
  const authMethod = options.authMethod ?? 'client_secret_basic'
  if (!AUTH_METHODS.includes(authMethod)) {
    optionError(`unsupported authMethod ${authMethod as string}`)
  }
  if (authMethod === 'private_key_jwt' && options.privateKey === undefined) {
    optionError('private_key_jwt needs privateKey')
  }
  const tls = options.tls === undefined ? undefined : resolveTls('tls', options.tls)
  if (isTlsAuthMethod(authMethod)) {
    // RFC 8705 §2: the certificate is the credential, and a secret would be a second one.
    if (tls?.certificate === undefined) {
      optionError(`${authMethod} needs tls with cert and key (or certFile and keyFile)`)
    }
    if (options.clientSecret !== undefined) {
      optionError(
        `clientSecret is not used with ${authMethod}: the certificate authenticates the client`,
      )
    }
  } else if (
    authMethod !== 'private_key_jwt' &&
    options.clientSecret === undefined &&
    registration === undefined
  ) {
    optionError(`${authMethod} needs clientSecret`)
  }
  if (options.tokenEndpoint === undefined && options.issuer === undefined) {
    optionError('give tokenEndpoint or issuer')
  }
  const allowInsecureHttp = resolveHttpAllowance('allowInsecureHttp', options.allowInsecureHttp)
  const tokenEndpoint =
    options.tokenEndpoint === undefined
      ? undefined
      : assertUrl('tokenEndpoint', options.tokenEndpoint, allowInsecureHttp, false)
  const issuer =
    options.issuer === undefined
      ? undefined
      : assertUrl('issuer', options.issuer, allowInsecureHttp, false)
  const targets = resolveTargets(options.targets)
  checkTlsDispatchers(options, tls, targets)
  return Object.freeze({
    clientId: options.clientId ?? '',
    registration,
    authMethod,
    clientSecret: options.clientSecret,
    assertionKey: assertionKey(options),
    assertionAudience: optionalString('assertionAudience', options.assertionAudience),
    tokenEndpoint,
    issuer,
    allowInsecureHttp,
    targets,
    dpop: resolveDpopKey(options.dpop),
    tls,
    limits: Object.freeze({
      timeout: numberIn('timeout', options.timeout, 10_000, 1, 120_000),
      maxBytes: numberIn('maxResponseBytes', options.maxResponseBytes, 65_536, 1, 16 << 20),
      dispatcher: options.tokenDispatcher,
    }),
    cache: Object.freeze({
      max: numberIn('maxCachedTokens', options.maxCachedTokens, 1000, 1, 1_000_000, 'whole number'),
      refreshSkew: numberIn('refreshSkew', options.refreshSkew, 30, 0, 3600),
      defaultLifetime: numberIn('defaultLifetime', options.defaultLifetime, 60, 1, 86_400),
      maxLifetime: numberIn('maxLifetime', options.maxLifetime, 86_400, 1, 30 * 86_400),
      minDelay: numberIn('retry.minDelay', options.retry?.minDelay, 1000, 0, 3_600_000),
      maxDelay: numberIn('retry.maxDelay', options.retry?.maxDelay, 60_000, 0, 3_600_000),
    }),
    discovery: Object.freeze({
      cooldown: numberIn('discovery.cooldown', options.discovery?.cooldown, 5000, 0, 3_600_000),
      refreshInterval: numberIn(
        'discovery.refreshInterval',
        options.discovery?.refreshInterval,
        600_000,
        0,
        86_400_000,
      ),
    }),
    maxReplayBytes: numberIn('maxReplayBytes', options.maxReplayBytes, 1 << 20, 0, 64 << 20),
    dispatcher: options.dispatcher,
    logger: checkLogger(options.logger),
    stores: clientStores(options.stores),
  })
}

/** The members of `stores` the client uses, checked by the core's rules (TypeErrors naming them). */
function clientStores(stores: unknown): ClientStores | undefined {
  const { tokens, lock } = resolveStores(stores)
  return tokens === undefined ? undefined : Object.freeze({ tokens, lock })
}

/**
 * With `tls`, the client makes the Agents that present the certificate: a dispatcher of the
 * caller's would present whatever it was given, and a certificate-bound token would go out on it.
 */
function checkTlsDispatchers(
  options: ServiceClientOptions,
  tls: TlsConfig | undefined,
  targets: ReadonlyMap<string, ResolvedTarget>,
): void {
  const targetTls = [...targets.values()].some((t) => t.tls !== undefined)
  if (options.dispatcher !== undefined && (tls !== undefined || targetTls)) {
    optionError(
      'dispatcher cannot be combined with tls: the client makes the Agents that present the certificate (drop dispatcher, or configure TLS on it and drop tls)',
    )
  }
  if (options.tokenDispatcher !== undefined && tls !== undefined) {
    optionError(
      'tokenDispatcher cannot be combined with tls: token requests present the certificate of tls',
    )
  }
}

/** The client assertion key with its `alg` (default: the JWK's, else RS256) and `kid`. */
export function assertionKey(
  options: Pick<ServiceClientOptions, 'privateKey' | 'privateKeyAlg' | 'privateKeyId'>,
): AssertionKey | undefined {
  const key: CryptoKey | KeyObject | JWK | undefined = options.privateKey
  if (key === undefined) return undefined
  if (typeof key !== 'object' || (key as unknown) === null) {
    optionError('privateKey must be a CryptoKey, a KeyObject or a private JWK')
  }
  const own = key as { alg?: unknown; kid?: unknown }
  return Object.freeze({
    key,
    alg:
      optionalString('privateKeyAlg', options.privateKeyAlg) ??
      (typeof own.alg === 'string' ? own.alg : 'RS256'),
    kid:
      optionalString('privateKeyId', options.privateKeyId) ??
      (typeof own.kid === 'string' ? own.kid : undefined),
  })
}

function optionalString(name: string, value: unknown): string | undefined {
  if (value !== undefined && (typeof value !== 'string' || value === '')) {
    optionError(`${name} must be a non-empty string`)
  }
  return value
}

/**
 * Without a logger, the core's default: token-endpoint failures become rate-limited Node process
 * warnings (`SVCAUTH_TOKEN_REQUEST_FAILED`, …; issue 16, item 1), never silence.
 */
function checkLogger(logger: ClientLogger | undefined): ClientLogger {
  if (logger !== undefined && !hasMethods(logger, 'warn', 'error')) {
    optionError('logger must be pino-compatible: an object with warn and error methods')
  }
  return logger ?? defaultLogger
}

function hasMethods(value: unknown, ...names: readonly string[]): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  )
}
