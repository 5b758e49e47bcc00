/**
 * One issuer's keys, wherever they come from (issue 20, item 1): fetched over HTTP
 * (`key-source.ts`: discovery, refetch on an unknown kid, outages), given inline
 * (`static-keys.ts`: never change, never stale) or read from a file (`keys-file.ts`: re-read when
 * it changes, the last good keys kept). The JWT verifier and the verified-token cache see only
 * this interface; {@link createKeySource} picks the source from the issuer's options. Whatever the
 * source, once keys are installed {@link IssuerKeySource.current} is synchronous and allocates
 * nothing.
 */
import type { Reject } from './errors.js'
import type { ResolvedIssuer } from './issuer-options.js'
import type { ResolvedJwksOptions } from './jwks-options.js'
import { KeySource } from './key-source.js'
import { FileKeySource } from './keys-file.js'
import type { JwsAlgorithm } from './lib/jws-algorithms.js'
import type { KeyStatus } from './lib/key-failure.js'
import type { Keys } from './lib/key-set.js'
import type { HttpAllowance } from './lib/urls.js'
import type { Logger } from './logger.js'
import { StaticKeySource } from './static-keys.js'
import type { CacheSource } from './token-cache.js'
import type { Dispatcher } from 'undici'

/** What the verifier and the token cache need from an issuer's keys. */
export interface IssuerKeySource extends CacheSource {
  /** Starts loading keys (and any background work: refreshes, file watching); never throws. */
  start(): void
  /** Resolves true once usable keys are held (waiting for a load in flight). */
  ready(): Promise<boolean>
  /** The installed key set when it is usable now: the synchronous path of every verification. */
  current(): Keys | undefined
  /**
   * The slow path, when {@link current} held no key for `alg` and `kid`: waits for keys and,
   * where the source can change, looks for new ones once per cooldown; resolves the key set to
   * select in, or rejects with `jwks_unavailable`.
   */
  keysFor(alg: JwsAlgorithm, kid: unknown): Promise<Keys>
  /** This issuer's key state now; never loads anything. */
  status(): KeyStatus
  /** Stops background work (timers, watchers). */
  close(): void
}

/** What every source shares: the verifier's options that are not the issuer's own. */
export interface KeySourceContext {
  readonly jwks: ResolvedJwksOptions
  readonly allowInsecureHttp: HttpAllowance
  readonly dispatcher: Dispatcher | undefined
  readonly logger: Logger
  /** Makes the verifier's errors, in its realm. */
  readonly reject: Reject
}

/** The issuer's key source, not started: inline keys, a key file, or the JWKS over HTTP. */
export function createKeySource(
  config: ResolvedIssuer,
  context: KeySourceContext,
): IssuerKeySource {
  if (config.keys !== undefined) {
    return new StaticKeySource({ issuer: config.issuer, material: config.keys, ...context })
  }
  if (config.keysFile !== undefined) {
    return new FileKeySource({
      issuer: config.issuer,
      file: config.keysFile,
      algorithms: config.algorithms,
      ...context,
    })
  }
  return new KeySource({ issuer: config.issuer, jwksUri: config.jwksUri, ...context })
}
