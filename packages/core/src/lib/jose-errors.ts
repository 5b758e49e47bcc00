/**
 * Maps whatever reached the pipeline without being an AuthError to one with a precise `reason`,
 * so nothing surfaces as a 500. Since issue 17 the JWT path (`jwt-verifier.ts`) makes its own
 * AuthErrors and calls jose only to import keys, so this is the pipeline's last line: it still
 * reads jose's `code` strings, and handles errors with no code (a plain `TypeError` is a key
 * problem, anything else `verification_failed`).
 */
import { decodeProtectedHeader } from 'jose'
import { isAuthError, type AuthError, type AuthErrorReason, type Reject } from '../errors.js'

const BY_CLAIM: Readonly<Record<string, AuthErrorReason>> = {
  iss: 'iss_invalid',
  aud: 'aud_invalid',
  nbf: 'not_yet_valid',
  iat: 'iat_invalid',
  typ: 'typ_invalid',
}

export function toAuthError(err: unknown, token: string, reject: Reject): AuthError {
  if (isAuthError(err)) return err
  return reject(reasonFor(err, token), { cause: err })
}

function reasonFor(err: unknown, token: string): AuthErrorReason {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown
    claim?: unknown
    reason?: unknown
  }
  switch (e.code) {
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'alg_not_allowed'
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'signature_invalid'
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'key_not_found'
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'jwks_ambiguous'
    case 'ERR_JWT_EXPIRED':
      return e.claim === 'iat' ? 'token_too_old' : 'expired'
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      if (e.reason === 'missing') return 'claim_missing'
      if (e.reason === 'invalid') return 'claim_type_invalid'
      return (typeof e.claim === 'string' ? BY_CLAIM[e.claim] : undefined) ?? 'claim_type_invalid'
    }
    case 'ERR_JOSE_NOT_SUPPORTED':
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return hasCrit(token) ? 'crit_unsupported' : 'malformed_jws'
    case 'ERR_JWK_INVALID':
    case 'ERR_JWKS_INVALID':
      return 'key_invalid'
    default:
      // Key import failures (weak RSA modulus, unusable key material) carry no jose code.
      return err instanceof TypeError ? 'key_invalid' : 'verification_failed'
  }
}

function hasCrit(token: string): boolean {
  try {
    return decodeProtectedHeader(token).crit !== undefined
  } catch {
    return false
  }
}
