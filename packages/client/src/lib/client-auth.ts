/**
 * Client authentication at the token endpoint: `client_secret_basic` (RFC 6749 §2.3.1: id and
 * secret are each form-urlencoded before base64, Appendix B), `client_secret_post`, and
 * `private_key_jwt` (RFC 7523 §2.2 with a fresh `jti` on every request, iss = sub = client_id).
 */
import { randomUUID } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose'

export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'

export { basicAuthorization, formEncode } from '@svcauth/core'

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
