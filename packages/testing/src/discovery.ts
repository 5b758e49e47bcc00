/**
 * The test issuer's discovery metadata, served at both well-known paths: OpenID Connect Discovery
 * 1.0 §4 (`/.well-known/openid-configuration`) and RFC 8414 §3
 * (`/.well-known/oauth-authorization-server`), with Hydra's fields (over TLS, RFC 8705's too),
 * overrides for tests that point a field elsewhere, and switches that make it fail or hang.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { internalError, playFault, sendJson, type FaultAnswers } from './http.js'

/** How the discovery endpoints answer. */
export type DiscoveryMode = 'ok' | 'fail' | 'hang' | { status: number; body: string }

/** The endpoints the metadata names. */
export interface DiscoveredEndpoints {
  readonly issuer: string
  readonly jwksUri: string
  readonly tokenEndpoint: string
  readonly registrationEndpoint: string
  /** Over TLS: the token endpoint's alias for mutual TLS (RFC 8705 §5). */
  readonly mtlsTokenEndpoint: string | undefined
}

const PATHS: ReadonlySet<string> = new Set([
  '/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server',
])

export class DiscoveryEndpoint {
  mode: DiscoveryMode = 'ok'
  /** Fields merged over the metadata. */
  overrides: Record<string, unknown> = {}
  hits = 0
  readonly #endpoints: DiscoveredEndpoints

  constructor(endpoints: DiscoveredEndpoints) {
    this.#endpoints = endpoints
  }

  /** True when this endpoint answers `path`. */
  handles(path: string): boolean {
    return PATHS.has(path)
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.hits++
    if (playFault(this.mode, FAULTS, req, res)) return
    const { issuer, jwksUri, tokenEndpoint, registrationEndpoint, mtlsTokenEndpoint } =
      this.#endpoints
    sendJson(res, 200, {
      issuer,
      jwks_uri: jwksUri,
      token_endpoint: tokenEndpoint,
      registration_endpoint: registrationEndpoint,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: [
        'client_secret_post',
        'client_secret_basic',
        'private_key_jwt',
        'none',
        ...(mtlsTokenEndpoint === undefined
          ? []
          : ['tls_client_auth', 'self_signed_tls_client_auth']),
      ],
      id_token_signing_alg_values_supported: ['RS256'],
      // RFC 8705 §3.3 and §5: certificate-bound tokens, and where a client doing mTLS sends its
      // token requests.
      ...(mtlsTokenEndpoint === undefined
        ? {}
        : {
            tls_client_certificate_bound_access_tokens: true,
            mtls_endpoint_aliases: { token_endpoint: mtlsTokenEndpoint },
          }),
      ...this.overrides,
    })
  }
}

/** The discovery endpoint's own fault (`hang` and scripted answers are shared). */
const FAULTS: FaultAnswers<Exclude<DiscoveryMode, object>> = {
  fail: internalError,
}
