/**
 * Authorization-server metadata discovery: OpenID Connect Discovery 1.0 §4
 * (`{issuer}/.well-known/openid-configuration`), then RFC 8414 §3
 * (`/.well-known/oauth-authorization-server{path}`). Metadata whose `issuer` differs from the
 * configured one is refused (RFC 8414 §3.3). Discovery only ever starts from configured issuers.
 */
import { httpJson, type HttpLimits } from './http.js'
import { discoveredUrlProblem, type HttpAllowance } from './urls.js'

export interface Metadata {
  readonly issuer: string
  readonly jwks_uri: string
  readonly [key: string]: unknown
}

export function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer)
  const path = url.pathname.replace(/\/+$/, '')
  return [
    `${url.origin}${path}/.well-known/openid-configuration`,
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ]
}

export async function discover(
  issuer: string,
  limits: HttpLimits,
  allowInsecureHttp: HttpAllowance,
): Promise<Metadata> {
  let lastError: unknown
  for (const url of discoveryUrls(issuer)) {
    let body: unknown
    try {
      body = await httpJson(url, { headers: { accept: 'application/json' } }, limits)
    } catch (err) {
      lastError = err
      continue
    }
    return checkMetadata(body, issuer, allowInsecureHttp)
  }
  throw lastError instanceof Error ? lastError : new Error('discovery failed')
}

function checkMetadata(body: unknown, issuer: string, allowInsecureHttp: HttpAllowance): Metadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new Error('metadata is not a JSON object')
  }
  const meta = body as Record<string, unknown>
  if (meta.issuer !== issuer) {
    throw new Error('metadata issuer does not match the configured issuer')
  }
  const jwksUri = meta.jwks_uri
  if (typeof jwksUri !== 'string') throw new Error('metadata has no jwks_uri')
  const problem = discoveredUrlProblem(issuer, jwksUri, allowInsecureHttp)
  if (problem !== undefined) throw new Error(`metadata jwks_uri ${problem}`)
  return meta as Metadata
}
