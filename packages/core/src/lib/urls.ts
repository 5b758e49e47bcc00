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
