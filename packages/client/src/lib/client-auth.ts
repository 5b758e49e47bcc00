/**
 * Client authentication at the token endpoint: `client_secret_basic` (RFC 6749 §2.3.1: id and
 * secret are each form-urlencoded before base64, Appendix B), `client_secret_post`,
 * `private_key_jwt` (RFC 7523 §2.2 with a fresh `jti` on every request, iss = sub = client_id),
 * and the mutual-TLS methods `tls_client_auth` and `self_signed_tls_client_auth` (RFC 8705 §2:
 * `client_id` in the form, no secret; the connection's client certificate is the credential).
 */
import { randomUUID } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { basicAuthorization } from '@svcauth/core/internal'
import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose'

export type AuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'

/** The methods whose credential is the TLS client certificate (RFC 8705 §2). */
export type TlsAuthMethod = 'tls_client_auth' | 'self_signed_tls_client_auth'

/** True for `tls_client_auth` and `self_signed_tls_client_auth`. */
export function isTlsAuthMethod(method: string): method is TlsAuthMethod {
  return method === 'tls_client_auth' || method === 'self_signed_tls_client_auth'
}

export { basicAuthorization, formEncode } from '@svcauth/core/internal'

/**
 * What one token request authenticates with: a secret (basic or post), a signed assertion, or the
 * connection's certificate (nothing in the request but `client_id`).
 */
export type ClientProof =
  | { readonly method: 'client_secret_basic'; readonly secret: string }
  | { readonly method: 'client_secret_post'; readonly secret: string }
  | { readonly method: 'private_key_jwt'; readonly assertion: string }
  | { readonly method: TlsAuthMethod }

/**
 * The body and headers of a token request authenticated as `clientId`: the secret in an
 * `Authorization: Basic` header (the form unchanged), or `client_id` with the secret, the
 * assertion or (for the TLS methods, RFC 8705 §2.1, §2.2) nothing else added to a copy of the form.
 */
export function authenticateForm(
  clientId: string,
  form: URLSearchParams,
  proof: ClientProof,
): { body: URLSearchParams; headers: Record<string, string> } {
  if (proof.method === 'client_secret_basic') {
    return { body: form, headers: { authorization: basicAuthorization(clientId, proof.secret) } }
  }
  const body = new URLSearchParams(form)
  body.set('client_id', clientId)
  if (proof.method === 'client_secret_post') {
    body.set('client_secret', proof.secret)
  } else if (proof.method === 'private_key_jwt') {
    body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
    body.set('client_assertion', proof.assertion)
  }
  return { body, headers: {} }
}

export interface AssertionKey {
  readonly key: CryptoKey | KeyObject | JWK
  readonly alg: string
  readonly kid: string | undefined
}

/** Signs a client assertion JWT for `private_key_jwt`. */
export async function clientAssertion(
  clientId: string,
  audience: string,
  signing: AssertionKey,
): Promise<string> {
  const key = isJwk(signing.key) ? await importJWK(signing.key, signing.alg) : signing.key
  return new SignJWT({})
    .setProtectedHeader({
      alg: signing.alg,
      typ: 'JWT',
      ...(signing.kid === undefined ? {} : { kid: signing.kid }),
    })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(key)
}

function isJwk(key: unknown): key is JWK {
  return (
    typeof key === 'object' && key !== null && typeof (key as { kty?: unknown }).kty === 'string'
  )
}
