/**
 * URL policy for every address svcauth talks to (issuer, discovery, JWKS, introspection, token,
 * registration and admin URLs): TLS unless the host is loopback or the caller allowed plain HTTP
 * (RFC 6750 §5.3, catalogue G8), for every host (`allowInsecureHttp: true`) or for a list of
 * origins (`['http://hydra:4444']`, issue 16 item 5); no userinfo or fragment. Addresses found in
 * discovery metadata are judged by the same allowance and by where they lead (catalogue L2,
 * RFC 8725 §3.10).
 */
import { hostKind, type HostKind } from './address.js'

/** `allowInsecureHttp` resolved: every host (`true`), none (`false`), or these origins only. */
export type HttpAllowance = boolean | ReadonlySet<string>

/**
 * Checks an `allowInsecureHttp` option (`name` is its path, for messages): a boolean, or a list
 * of `http://host[:port]` origins, kept in the WHATWG serialization (`http://hydra:80` is
 * `http://hydra`) so that a URL's `origin` is looked up as is. A TypeError otherwise.
 *
 * @example
 * ```ts
 * const allowance = resolveHttpAllowance('allowInsecureHttp', ['http://hydra:4444'])
 * urlProblem('http://hydra:4444/oauth2/token', allowance) // undefined: allowed
 * ```
 */
export function resolveHttpAllowance(name: string, value: unknown): HttpAllowance {
  if (value === undefined || typeof value === 'boolean') return value === true
  const bad = (): never => {
    throw new TypeError(
      `svcauth: ${name} must be true, false, or a list of plain-HTTP origins such as ['http://hydra:4444']`,
    )
  }
  if (!Array.isArray(value)) return bad()
  const origins = new Set<string>()
  for (const item of value as unknown[]) {
    if (typeof item !== 'string' || !URL.canParse(item)) return bad()
    const url = new URL(item)
    const bare = url.pathname === '/' && url.search === '' && url.hash === ''
    if (url.protocol !== 'http:' || !bare || url.username !== '' || url.password !== '') {
      throw new TypeError(
        `svcauth: ${name}: ${JSON.stringify(item)} must be an http:// origin (scheme://host[:port], no path)`,
      )
    }
    origins.add(url.origin)
  }
  return origins
}

/** True when plain HTTP to `url` is allowed: loopback always, else by the allowance. */
function httpAllowed(url: URL, allowance: HttpAllowance): boolean {
  if (allowance === true || isLoopbackHost(url.hostname)) return true
  return allowance !== false && allowance.has(url.origin)
}

/** Loopback by name (`localhost`) or by address bytes, including `[::ffff:127.0.0.1]`. */
export function isLoopbackHost(hostname: string): boolean {
  return hostKind(hostname) === 'loopback'
}

/** Returns the reason a URL is not acceptable, or undefined when it is. */
export function urlProblem(
  value: string,
  allowInsecureHttp: HttpAllowance,
  allowQuery = true,
): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'is not an absolute URL'
  }
  if (url.username !== '' || url.password !== '') return 'must not carry credentials'
  if (url.hash !== '') return 'must not have a fragment'
  if (!allowQuery && url.search !== '') return 'must not have a query'
  if (url.protocol === 'https:') return undefined
  if (url.protocol !== 'http:') return 'must use https'
  if (httpAllowed(url, allowInsecureHttp)) return undefined
  return `must use https: ${url.origin} is plain HTTP off loopback (allow it with allowInsecureHttp: ['${url.origin}'], or true for every host)`
}

/**
 * Checks a configured URL: TLS unless loopback or allowed by `allowInsecureHttp`, no credentials, no fragment,
 * and no query unless `allowQuery`. Throws a TypeError naming the option.
 */
export function assertUrl(
  name: string,
  value: unknown,
  allowInsecureHttp: HttpAllowance,
  allowQuery = true,
): string {
  return asserted(name, value, (url) => urlProblem(url, allowInsecureHttp, allowQuery))
}

/** `value` when it is a non-empty string with no `problemOf`, else a TypeError naming `name`. */
function asserted(
  name: string,
  value: unknown,
  problemOf: (value: string) => string | undefined,
): string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`svcauth: ${name} must be a non-empty string`)
  }
  const problem = problemOf(value)
  if (problem !== undefined) throw new TypeError(`svcauth: ${name} ${problem}`)
  return value
}

// Where discovered endpoints may never point, whoever the issuer is: the request would carry a
// client secret or fetch keys from the machine's own cloud metadata service or neighbours.
const REFUSED: Partial<Record<HostKind, string>> = {
  'link-local': 'points at a link-local address',
  unspecified: 'points at an unspecified address',
  'cloud-metadata': 'points at a cloud metadata address',
  'non-global': 'points at an IPv6 translation of a special-purpose IPv4 address',
}

/**
 * The reason an address taken from discovery metadata is refused (catalogue L2): the configured
 * URL rules, plus never a link-local, unspecified or cloud metadata address, judged by address
 * bytes (so `[::ffff:169.254.169.254]` is link-local), and never loopback unless the issuer itself
 * is on loopback. Another https host is allowed: some issuers publish keys elsewhere (Google's
 * JWKS is on www.googleapis.com).
 */
export function discoveredUrlProblem(
  issuer: string,
  value: string,
  allowInsecureHttp: HttpAllowance,
): string | undefined {
  const problem = urlProblem(value, allowInsecureHttp)
  if (problem !== undefined) return problem
  const kind = hostKind(new URL(value).hostname)
  const refused = REFUSED[kind]
  if (refused !== undefined) return refused
  if (kind === 'loopback' && !isLoopbackHost(new URL(issuer).hostname)) {
    return 'points at loopback while the issuer is not on loopback'
  }
  return undefined
}

/** Like {@link assertUrl}, for an address found in the issuer's discovery metadata. */
export function assertDiscoveredUrl(
  name: string,
  issuer: string,
  value: unknown,
  allowInsecureHttp: HttpAllowance,
): string {
  return asserted(name, value, (url) => discoveredUrlProblem(issuer, url, allowInsecureHttp))
}
