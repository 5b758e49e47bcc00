/**
 * JWKS fetching and resilience tuning (`jwks` of the verifier options): documented defaults,
 * validated once at construction. What the fields govern is in `key-source.ts`; for keys given
 * offline (issue 20, item 1), `maxKeys` and `maxBytes` cap them too, and a key file is checked
 * for changes every `refreshInterval` and on an unknown kid at most once per `cooldown`
 * (`keys-file.ts`).
 */
import { num } from './lib/checks.js'

/** Tuning for the JWKS layer; every field has a safe default. */
export interface JwksOptions {
  /** Minimum time between two fetches (or key-file checks) triggered by unknown kids or failures, ms. @default 5000 */
  cooldown?: number
  /** Background refresh period (a key file's safety-net check too), ms. @default 600000 (10 min) */
  refreshInterval?: number
  /** How long the last good key set keeps serving while the JWKS endpoint is down, ms. @default 3600000 (1 h) */
  maxStale?: number
  /** Timeout for one JWKS or discovery request, ms. @default 5000 */
  timeout?: number
  /** Response body (or key file) cap, bytes. @default 262144 (256 KiB) */
  maxBytes?: number
  /** Most keys accepted in one set. @default 100 */
  maxKeys?: number
}

/** Every JWKS tuning field, resolved. */
export type ResolvedJwksOptions = Readonly<Required<JwksOptions>>

export const JWKS_DEFAULTS: ResolvedJwksOptions = Object.freeze({
  cooldown: 5_000,
  refreshInterval: 600_000,
  maxStale: 3_600_000,
  timeout: 5_000,
  maxBytes: 262_144,
  maxKeys: 100,
})

const WEEK_MS = 7 * 86_400_000

/** Validates and freezes the `jwks` options. */
export function resolveJwks(options: JwksOptions | undefined): ResolvedJwksOptions {
  const jwks = options ?? {}
  return Object.freeze({
    cooldown: num('jwks.cooldown', jwks.cooldown, JWKS_DEFAULTS.cooldown, 0, 3_600_000),
    refreshInterval: num(
      'jwks.refreshInterval',
      jwks.refreshInterval,
      JWKS_DEFAULTS.refreshInterval,
      1_000,
      WEEK_MS,
    ),
    maxStale: num('jwks.maxStale', jwks.maxStale, JWKS_DEFAULTS.maxStale, 0, WEEK_MS),
    timeout: num('jwks.timeout', jwks.timeout, JWKS_DEFAULTS.timeout, 1, 120_000),
    maxBytes: num('jwks.maxBytes', jwks.maxBytes, JWKS_DEFAULTS.maxBytes, 1_024, 16 << 20),
    maxKeys: num('jwks.maxKeys', jwks.maxKeys, JWKS_DEFAULTS.maxKeys, 1, 10_000),
  })
}
