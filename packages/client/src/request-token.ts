/**
 * One client-credentials token request (RFC 6749 §4.4), for callers that want a token once rather
 * than a client that keeps them (the `svcauth token` command, scripts, health checks). It is built
 * from the pieces createServiceClient uses, so form building, client authentication
 * (`client_secret_basic`, `client_secret_post`, `private_key_jwt` per RFC 7523), discovery of the
 * token endpoint with the discovered-address rule (catalogue L2) and the checks of the answer
 * (RFC 6749 §5.1) exist once. Nothing is cached and nothing is retried, except that a secret list
 * or provider is rotated through on `invalid_client` as the service client does.
 */
import type { KeyObject } from 'node:crypto'
import { assertUrl, resolveHttpAllowance } from '@svcauth/core/internal'
import type { CryptoKey, JWK } from 'jose'
import type { Dispatcher } from 'undici'
import type { AuthMethod } from './lib/client-auth.js'
import { postGrant, withTarget } from './lib/grant-request.js'
import { optionError as fail } from './lib/option-checks.js'
import type { TokenLimits } from './lib/token-request.js'
import type { SecretSource } from './options.js'
import { assertionKey } from './resolve-options.js'
import { SecretRing } from './secrets.js'
import { discoveredEndpoint } from './token-endpoint.js'

export interface TokenRequestOptions {
  /** Token endpoint URL; or give `issuer` to discover it. */
  tokenEndpoint?: string
  /** Issuer whose metadata names the token endpoint (used when `tokenEndpoint` is absent). */
  issuer?: string
  clientId: string
  /** Required for the client_secret_* methods: a secret, `[current, previous]`, or a provider. */
  clientSecret?: SecretSource
  /** @default 'client_secret_basic' */
  authMethod?: AuthMethod
  /** Private key for `private_key_jwt` (CryptoKey, KeyObject or private JWK). */
  privateKey?: CryptoKey | KeyObject | JWK
  /** `kid` for the client assertion header. @default the JWK's `kid` */
  privateKeyId?: string
  /** Assertion algorithm. @default the JWK's `alg`, else 'RS256' */
  privateKeyAlg?: string
  /** `aud` of the client assertion. @default the token endpoint URL */
  assertionAudience?: string
  /** Scopes to request, joined with spaces. */
  scope?: string | readonly string[]
  /** Hydra-style `audience` value(s), joined with spaces. */
  audience?: string | readonly string[]
  /** RFC 8707 `resource` indicator(s), one parameter each. */
  resource?: string | readonly string[]
  /** Timeout of each request (discovery, token), ms. @default 10000 */
  timeout?: number
  /** Token response cap, bytes. @default 65536 */
  maxResponseBytes?: number
  /**
   * Plain HTTP off loopback: `true` for every host, or the origins allowed, e.g.
   * `['http://hydra:4444']` (the issuer, the token endpoint, the discovered one). @default false
   */
  allowInsecureHttp?: boolean | readonly string[]
  /** Dispatcher for discovery and the token request. @default undici's global dispatcher */
  dispatcher?: Dispatcher
  /**
   * Called with the token endpoint (the configured or the discovered one) once it is known and
   * before anything is sent to it. A TokenEndpointError thrown before this call is a failed
   * discovery: the metadata could not be had, or named an address the rule refuses.
   */
  onTokenEndpoint?: (url: string) => void
}

/** A token the endpoint issued. */
export interface RequestedToken {
  readonly accessToken: string
  /** Seconds, as the server said; undefined when it said nothing. */
  readonly expiresIn: number | undefined
  /** The whole token response (it holds the token: never log it). */
  readonly response: Readonly<Record<string, unknown>>
}

const METHODS: readonly string[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt']

/**
 * Requests one client-credentials token. Bad options are a TypeError; a refused or failed
 * request, or a failed discovery, is a TokenEndpointError (nothing is sent to a refused address).
 *
 * @example
 * ```ts
 * const { accessToken, expiresIn } = await requestToken({
 *   issuer: 'https://hydra.example/',
 *   clientId: 'bss',
 *   clientSecret: () => readFile('/run/secrets/bss', 'utf8'),
 *   scope: ['smd.read'],
 *   audience: 'smd',
 * })
 * ```
 */
export async function requestToken(options: TokenRequestOptions): Promise<RequestedToken> {
  const { clientId, privateKey } = options
  if (typeof clientId !== 'string' || clientId === '') fail('clientId is required')
  const authMethod = options.authMethod ?? 'client_secret_basic'
  if (authMethod === 'tls_client_auth' || authMethod === 'self_signed_tls_client_auth') {
    fail(
      `requestToken does not present a TLS client certificate (${authMethod}); use createServiceClient with tls`,
    )
  }
  if (!METHODS.includes(authMethod)) fail(`unsupported authMethod ${authMethod as string}`)
  if (authMethod === 'private_key_jwt' && privateKey === undefined) {
    fail('private_key_jwt needs privateKey')
  }
  if (authMethod !== 'private_key_jwt' && options.clientSecret === undefined) {
    fail(`${authMethod} needs clientSecret`)
  }
  const allowHttp = resolveHttpAllowance('allowInsecureHttp', options.allowInsecureHttp)
  const limits: TokenLimits = {
    timeout: positive('timeout', options.timeout, 10_000),
    maxBytes: positive('maxResponseBytes', options.maxResponseBytes, 65_536),
    dispatcher: options.dispatcher,
  }
  const form = withTarget(new URLSearchParams({ grant_type: 'client_credentials' }), {
    scope: strings('scope', options.scope),
    audience: strings('audience', options.audience),
    resource: strings('resource', options.resource),
  })
  const auth = {
    method: authMethod,
    secrets:
      authMethod === 'private_key_jwt'
        ? undefined
        : new SecretRing(options.clientSecret as SecretSource),
    assertionKey: assertionKey(options),
    assertionAudience: options.assertionAudience,
  }
  let url: string
  if (options.tokenEndpoint !== undefined) {
    url = assertUrl('tokenEndpoint', options.tokenEndpoint, allowHttp, false)
  } else if (options.issuer !== undefined) {
    const issuer = assertUrl('issuer', options.issuer, allowHttp, false)
    // One discovery, by the service client's own code; nothing here outlives this call.
    const once = { cooldown: 0, refreshInterval: Infinity }
    url = await discoveredEndpoint(issuer, limits, allowHttp, once, undefined).current()
  } else {
    return fail('give tokenEndpoint or issuer')
  }
  options.onTokenEndpoint?.(url)

  const issued = await postGrant(url, form, clientId, auth, limits)
  return { accessToken: issued.accessToken, expiresIn: issued.expiresIn, response: issued.response }
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(`${name} must be a positive number`)
  }
  return value
}

function strings(name: string, value: unknown): readonly string[] {
  if (value === undefined) return []
  const items = typeof value === 'string' ? [value] : value
  if (!Array.isArray(items) || !items.every((v) => typeof v === 'string')) {
    fail(`${name} must be a string or an array of strings`)
  }
  return items
}
