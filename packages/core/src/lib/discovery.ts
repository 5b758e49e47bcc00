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

/**
 * A discovery that failed, with its condition: `issuer_mismatch` when the metadata names another
 * issuer (the message names both values: they are public), else `discovery_failed`.
 */
export class DiscoveryError extends Error {
  readonly code: 'issuer_mismatch' | 'discovery_failed'
  constructor(code: DiscoveryError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'DiscoveryError'
    this.code = code
  }
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
  throw new DiscoveryError(
    'discovery_failed',
    `discovery failed: ${lastError instanceof Error ? lastError.message : 'no answer'}`,
    { cause: lastError },
  )
}

function checkMetadata(body: unknown, issuer: string, allowInsecureHttp: HttpAllowance): Metadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new Error('metadata is not a JSON object')
  }
  const meta = body as Record<string, unknown>
  if (meta.issuer !== issuer) {
    const named = typeof meta.issuer === 'string' ? `"${meta.issuer}"` : 'no issuer'
    throw new DiscoveryError(
      'issuer_mismatch',
      `metadata names ${named}, not the configured issuer "${issuer}"`,
    )
  }
  const jwksUri = meta.jwks_uri
  if (typeof jwksUri !== 'string') throw new Error('metadata has no jwks_uri')
  const problem = discoveredUrlProblem(issuer, jwksUri, allowInsecureHttp)
  if (problem !== undefined) throw new Error(`metadata jwks_uri ${problem}`)
  return meta as Metadata
}
