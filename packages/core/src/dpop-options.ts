/**
 * The `dpop` option of `authenticate()` (RFC 9449, issue 18) and `publicOrigin`, checked and
 * frozen once at construction: a mistake is a TypeError at start-up.
 */
import { MemoryReplayStore, type DpopReplayStore } from './dpop-proof.js'
import { DpopNonces } from './dpop-nonce.js'
import type { DpopChallenge } from './errors.js'
import type { Algorithm } from './issuer-options.js'
import { fail, num } from './lib/checks.js'
import { algorithmTable } from './lib/jws-algorithms.js'

/** Server nonces (RFC 9449 §8): rotating, stateless, checked by any replica holding the secret. */
export interface DpopNonceOptions {
  /**
   * HMAC key of the nonces, at least 32 bytes; give replicas the same one. @default random at start
   */
  secret?: string | Uint8Array
  /** Seconds each nonce is handed out; one is accepted for up to twice this. @default 300 */
  lifetime?: number
}

/** How `authenticate()` treats DPoP. */
export interface DpopOptions {
  /** Refuse plain Bearer tokens: only DPoP-bound tokens with a proof get in. @default false */
  required?: boolean
  /** Require a server nonce in every proof (`use_dpop_nonce`, `DPoP-Nonce`). @default false */
  nonce?: boolean | DpopNonceOptions
  /** Seconds a proof is accepted after its `iat` (plus `clockTolerance`), 1 to 3600. @default 300 */
  proofMaxAge?: number
  /** Proof algorithms accepted, advertised in `algs`. @default every asymmetric algorithm svcauth verifies */
  algorithms?: readonly Algorithm[]
  /**
   * Where proof `jti`s are remembered until they expire (RFC 9449 §11.1); share one between
   * replicas to catch a proof replayed to another replica. @default an in-process store of 100,000
   */
  replay?: DpopReplayStore
}

/** The resolved `dpop` option. */
export interface ResolvedDpopOptions {
  readonly required: boolean
  readonly nonces: DpopNonces | undefined
  readonly proofMaxAge: number
  readonly algorithms: readonly Algorithm[]
  readonly replay: DpopReplayStore
  /** The challenge context for a request that used each scheme (and for one that used none). */
  readonly challenges: {
    readonly bearer: DpopChallenge
    readonly dpop: DpopChallenge
    readonly none: DpopChallenge
  }
}

/** Every asymmetric algorithm svcauth verifies, ES256 first (the one most clients use). */
export const DPOP_ALGORITHMS: readonly Algorithm[] = Object.freeze([
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
])

/** `shared`: the fleet's replay store (`stores.dpopReplay`), used unless `replay` is given. */
export function resolveDpop(
  value: unknown,
  shared?: DpopReplayStore,
): ResolvedDpopOptions | undefined {
  if (value === undefined || value === false) return undefined
  if (value !== true && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    fail('dpop must be true, false or an object')
  }
  const options = (value === true ? {} : value) as DpopOptions
  const required = options.required ?? false
  if (typeof required !== 'boolean') fail('dpop.required must be a boolean')
  const algorithms = resolveAlgorithms(options.algorithms)
  const replay: unknown = options.replay ?? shared ?? new MemoryReplayStore({ max: 100_000 })
  if (
    typeof replay !== 'object' ||
    replay === null ||
    typeof (replay as Partial<DpopReplayStore>).addIfAbsent !== 'function'
  ) {
    fail('dpop.replay must have an addIfAbsent(key, expiresAt) method')
  }
  const challenge = (scheme: DpopChallenge['scheme']): DpopChallenge =>
    Object.freeze({ algs: algorithms, required, scheme })
  return Object.freeze({
    required,
    nonces: resolveNonces(options.nonce),
    proofMaxAge: num('dpop.proofMaxAge', options.proofMaxAge, 300, 1, 3600),
    algorithms,
    replay: replay as DpopReplayStore,
    challenges: Object.freeze({
      bearer: challenge('bearer'),
      dpop: challenge('dpop'),
      none: challenge(undefined),
    }),
  })
}

function resolveAlgorithms(value: unknown): readonly Algorithm[] {
  if (value === undefined) return DPOP_ALGORITHMS
  if (!Array.isArray(value) || value.length === 0) {
    fail('dpop.algorithms must be a non-empty array')
  }
  const known = algorithmTable(DPOP_ALGORITHMS)
  for (const alg of value) {
    if (typeof alg !== 'string' || !known.has(alg)) {
      fail(`dpop.algorithms: ${String(alg)} is not an asymmetric JWS algorithm svcauth verifies`)
    }
  }
  return Object.freeze([...(value as Algorithm[])])
}

function resolveNonces(value: unknown): DpopNonces | undefined {
  if (value === undefined || value === false) return undefined
  if (value !== true && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    fail('dpop.nonce must be true, false or an object')
  }
  const options = (value === true ? {} : value) as DpopNonceOptions
  const lifetime = num('dpop.nonce.lifetime', options.lifetime, 300, 10, 86_400)
  const { secret } = options
  let key: Uint8Array | undefined
  if (secret !== undefined) {
    key = typeof secret === 'string' ? Buffer.from(secret) : secret
    if (!(key instanceof Uint8Array) || key.byteLength < 32) {
      fail('dpop.nonce.secret must be a string or bytes of at least 32 bytes')
    }
  }
  return new DpopNonces(key, lifetime)
}

/**
 * `publicOrigin`: the scheme, host and optional path prefix clients address this service by,
 * e.g. `https://api.example/smd`; the DPoP `htu` is checked against it plus the request path.
 */
export function resolvePublicOrigin(value: unknown): string | undefined {
  if (value === undefined) return undefined
  let url: URL | undefined
  try {
    url = typeof value === 'string' ? new URL(value) : undefined
  } catch {
    url = undefined
  }
  if (
    url === undefined ||
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.username !== '' ||
    url.password !== '' ||
    url.search !== '' ||
    url.hash !== '' ||
    (value as string).includes('?') ||
    (value as string).includes('#')
  ) {
    fail('publicOrigin must be an absolute http(s) URL without credentials, query or fragment')
  }
  // No trailing slash: the request path, which starts with one, is appended.
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}
