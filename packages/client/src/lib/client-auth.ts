/**
 * Client authentication at the token endpoint: `client_secret_basic` (RFC 6749 §2.3.1: id and
 * secret are each form-urlencoded before base64, Appendix B), `client_secret_post`, and
 * `private_key_jwt` (RFC 7523 §2.2 with a fresh `jti` on every request, iss = sub = client_id).
 */
import { randomUUID } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { basicAuthorization } from '@svcauth/core/internal'
import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose'

export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'

export { basicAuthorization, formEncode } from '@svcauth/core/internal'

/** What one token request authenticates with: a secret (basic or post) or a signed assertion. */
export type ClientProof =
  | { readonly method: 'client_secret_basic'; readonly secret: string }
  | { readonly method: 'client_secret_post'; readonly secret: string }
  | { readonly method: 'private_key_jwt'; readonly assertion: string }

/**
 * The body and headers of a token request authenticated as `clientId`: the secret in an
 * `Authorization: Basic` header (the form unchanged), or `client_id` with the secret or the
 * assertion added to a copy of the form.
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
  } else {
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
