/**
 * URL policy for issuer, discovery and JWKS addresses: TLS unless the host is loopback or the
 * caller opted in to plain HTTP (RFC 6750 §5.3, catalogue G8); no userinfo or fragment.
 */

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.test(hostname)
}

/** Returns the reason a URL is not acceptable, or undefined when it is. */
export function urlProblem(
  value: string,
  allowInsecureHttp: boolean,
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
  if (allowInsecureHttp || isLoopbackHost(url.hostname)) return undefined
  return 'must use https (set allowInsecureHttp for a plain-HTTP in-cluster issuer)'
}

/**
 * Checks a configured URL: TLS unless loopback or `allowInsecureHttp`, no credentials, no fragment,
 * and no query unless `allowQuery`. Throws a TypeError naming the option.
 */
export function assertUrl(
  name: string,
  value: unknown,
  allowInsecureHttp: boolean,
  allowQuery = true,
): string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`svcauth: ${name} must be a non-empty string`)
  }
  const problem = urlProblem(value, allowInsecureHttp, allowQuery)
  if (problem !== undefined) throw new TypeError(`svcauth: ${name} ${problem}`)
  return value
}

// 169.254.0.0/16 (cloud metadata services live here), fe80::/10, and the unspecified addresses.
const LINK_LOCAL = /^(169\.254(?:\.\d{1,3}){2}|0\.0\.0\.0|\[(?:fe[89ab][0-9a-f]:[^\]]*|::)\])$/i

/**
 * The reason an address taken from discovery metadata is refused (catalogue L2): the configured
 * URL rules, plus never a link-local or unspecified address (cloud metadata endpoints), and never
 * loopback unless the issuer itself is on loopback. Another https host is allowed: some issuers
 * publish keys elsewhere (Google's JWKS is on www.googleapis.com).
 */
export function discoveredUrlProblem(
  issuer: string,
  value: string,
  allowInsecureHttp: boolean,
): string | undefined {
  const problem = urlProblem(value, allowInsecureHttp)
  if (problem !== undefined) return problem
  const { hostname } = new URL(value)
  if (LINK_LOCAL.test(hostname)) return 'points at a link-local or unspecified address'
  if (isLoopbackHost(hostname) && !isLoopbackHost(new URL(issuer).hostname)) {
    return 'points at loopback while the issuer is not on loopback'
  }
  return undefined
}

/** Like {@link assertUrl}, for an address found in the issuer's discovery metadata. */
export function assertDiscoveredUrl(
  name: string,
  issuer: string,
  value: unknown,
  allowInsecureHttp: boolean,
): string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`svcauth: ${name} must be a non-empty string`)
  }
  const problem = discoveredUrlProblem(issuer, value, allowInsecureHttp)
  if (problem !== undefined) throw new TypeError(`svcauth: ${name} ${problem}`)
  return value
}
