/**
 * The `targets` option resolved: each downstream origin (exact scheme, host and port) with the
 * scope, audience (Hydra) and resource (RFC 8707) its tokens are requested for, and what it gets
 * during a request made with a user's token, and its own mutual TLS (RFC 8705), if any. No other
 * origin ever gets a token.
 */
import { optionError as fail, stringList } from './lib/option-checks.js'
import { resolveTls, type TlsConfig } from './lib/tls-options.js'
import type { TargetConfig, UserTokenMode } from './options.js'

export interface ResolvedTarget {
  readonly origin: string
  readonly scope: readonly string[]
  readonly audience: readonly string[]
  readonly resource: readonly string[]
  readonly userToken: UserTokenMode
  /** The `aud` values a forwarded user token must include one of: audience and resource. */
  readonly accepts: readonly string[]
  /**
   * Its own `tls` (a client certificate and/or CAs), `false` for none at all, undefined for the
   * client's `tls` (on https).
   */
  readonly tls: TlsConfig | false | undefined
  /** What the token log lines say about the target (never a token). */
  readonly logFields: { readonly target: string; readonly scope: string; readonly audience: string }
}

/** Checks `targets` (a TypeError naming the origin for each mistake); keyed by origin, frozen. */
export function resolveTargets(targets: unknown): ReadonlyMap<string, ResolvedTarget> {
  if (typeof targets !== 'object' || targets === null)
    fail('targets must be an object keyed by origin')
  const out = new Map<string, ResolvedTarget>()
  for (const [key, config] of Object.entries(targets as Record<string, unknown>)) {
    const target = resolveTarget(key, config)
    out.set(target.origin, target)
  }
  if (out.size === 0) fail('targets must name at least one origin')
  return out
}

function resolveTarget(key: string, value: unknown): ResolvedTarget {
  let url: URL
  try {
    url = new URL(key)
  } catch {
    return fail(`target ${key} is not a URL`)
  }
  const bare = url.pathname === '/' && url.search === '' && url.hash === ''
  if (url.origin === 'null' || !bare || url.username !== '' || url.password !== '') {
    fail(
      `target ${key} must be an origin (scheme://host[:port]) with no path, query or credentials`,
    )
  }
  if (typeof value !== 'object' || value === null) fail(`target ${key} must be an object`)
  const config = value as TargetConfig
  const userToken = config.userToken ?? 'never'
  if (!['forward', 'exchange', 'never'].includes(userToken)) {
    fail(`target ${key}: userToken must be 'forward', 'exchange' or 'never'`)
  }
  const audience = stringList(`target ${key} audience`, config.audience)
  const resource = stringList(`target ${key} resource`, config.resource)
  for (const r of resource) {
    if (!URL.canParse(r)) fail(`target ${key}: resource ${r} must be an absolute URI (RFC 8707)`)
  }
  // RFC 6750 §5.3: a bearer token goes only to a party it was issued for; with neither an
  // audience nor a resource there is nothing to check the user's `aud` against.
  if (userToken === 'forward' && audience.length === 0 && resource.length === 0) {
    fail(
      `target ${url.origin}: userToken 'forward' needs the target's audience or resource, to forward only user tokens whose aud names it (add audience: '<the aud this service accepts>', or use userToken 'exchange')`,
    )
  }
  const scope = stringList(`target ${key} scope`, config.scope)
  const tls = targetTls(url, config.tls)
  const accepts = Object.freeze([...audience, ...resource])
  return Object.freeze({
    origin: url.origin,
    scope,
    audience,
    resource,
    userToken,
    accepts,
    tls,
    logFields: Object.freeze({
      target: url.origin,
      scope: scope.join(' '),
      audience: accepts.join(' '),
    }),
  })
}

/** A target's `tls`: only for https, where there is a TLS connection to present a certificate on. */
function targetTls(url: URL, value: unknown): TlsConfig | false | undefined {
  if (value === undefined || value === false) return value
  if (url.protocol !== 'https:') {
    fail(`target ${url.origin}: tls needs an https target (plain HTTP has no TLS connection)`)
  }
  return resolveTls(`target ${url.origin} tls`, value)
}
