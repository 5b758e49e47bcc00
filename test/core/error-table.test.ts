/**
 * One table gives every AuthError reason exactly one code, and so one status (issue 15): the
 * reason-first constructor takes the code from it, the code-first one must agree with it, and
 * the verifier's errors carry its realm without any call site passing one.
 */
import {
  AuthError,
  createAuthenticator,
  isAuthError,
  STATUS_BY_CODE,
  type AuthErrorCode,
  type AuthErrorReason,
} from '@svcauth/core'
import { createTestIssuer, type TestIssuer } from '@svcauth/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Typed as a Record over every reason: a reason added without a row here fails the typecheck.
const CODES: Record<AuthErrorReason, AuthErrorCode> = {
  missing_token: 'unauthorized',
  auth_not_configured: 'unauthorized',
  malformed_header: 'invalid_request',
  multiple_methods: 'invalid_request',
  token_too_large: 'invalid_token',
  malformed_jws: 'invalid_token',
  alg_not_allowed: 'invalid_token',
  signature_invalid: 'invalid_token',
  key_not_found: 'invalid_token',
  key_invalid: 'invalid_token',
  jwks_ambiguous: 'invalid_token',
  typ_invalid: 'invalid_token',
  iss_invalid: 'invalid_token',
  aud_invalid: 'invalid_token',
  expired: 'invalid_token',
  not_yet_valid: 'invalid_token',
  iat_invalid: 'invalid_token',
  lifetime_too_long: 'invalid_token',
  token_too_old: 'invalid_token',
  claim_missing: 'invalid_token',
  claim_type_invalid: 'invalid_token',
  crit_unsupported: 'invalid_token',
  sender_constrained: 'invalid_token',
  dpop_required: 'unauthorized',
  dpop_scheme_mismatch: 'invalid_request',
  dpop_proof_invalid: 'invalid_dpop_proof',
  dpop_proof_replayed: 'invalid_dpop_proof',
  dpop_htu_mismatch: 'invalid_dpop_proof',
  dpop_nonce_required: 'use_dpop_nonce',
  dpop_unbound: 'invalid_token',
  dpop_key_mismatch: 'invalid_token',
  dpop_replay_unavailable: 'temporarily_unavailable',
  request_uri_invalid: 'invalid_request',
  mtls_required: 'invalid_token',
  mtls_certificate_missing: 'invalid_token',
  mtls_certificate_mismatch: 'invalid_token',
  mtls_certificate_invalid: 'invalid_token',
  mtls_header_invalid: 'invalid_request',
  revoked: 'invalid_token',
  token_inactive: 'invalid_token',
  verification_failed: 'invalid_token',
  insufficient_scope: 'insufficient_scope',
  actor_not_allowed: 'insufficient_scope',
  claim_check_failed: 'insufficient_scope',
  jwks_unavailable: 'temporarily_unavailable',
  issuer_unavailable: 'temporarily_unavailable',
  introspection_unavailable: 'temporarily_unavailable',
  revocation_unavailable: 'temporarily_unavailable',
}

describe('the reason table', () => {
  it.each(Object.entries(CODES))('%s is always %s', (reason, code) => {
    const err = new AuthError(reason as AuthErrorReason)
    expect(err).toMatchObject({ reason, code, status: STATUS_BY_CODE[code] })
    // The code-first form gives the same error.
    const codeFirst = new AuthError(
      ...([code, reason] as unknown as ConstructorParameters<typeof AuthError>),
    )
    expect(codeFirst.headers).toEqual(err.headers)
    expect(codeFirst.message).toBe(err.message)
  })

  it('refuses a code that is not the reason’s, and an unknown reason, with a TypeError', () => {
    const mismatched = ['temporarily_unavailable', 'verification_failed'] as unknown as [
      AuthErrorReason,
    ]
    expect(() => new AuthError(...mismatched)).toThrow(
      'svcauth: the code of verification_failed is invalid_token, not temporarily_unavailable',
    )
    expect(() => new AuthError('nonsense' as AuthErrorReason)).toThrow(
      'svcauth: unknown reason nonsense',
    )
  })
})

describe('the realm, bound once per authenticator', () => {
  let issuer: TestIssuer
  beforeAll(async () => {
    issuer = await createTestIssuer()
  })
  afterAll(() => issuer.close())

  it('is in the challenge of every rejection, and the revocation hook failing is its own 503 reason', async () => {
    const auth = createAuthenticator({
      issuer: issuer.issuer,
      audience: 'smd',
      jwksUri: issuer.jwksUri,
      realm: 'smd',
      isRevoked: () => Promise.reject(new Error('denylist down')),
      logger: { warn: () => undefined, error: () => undefined },
    })
    const rejection = async (run: () => Promise<unknown>) => {
      try {
        await run()
      } catch (err) {
        if (isAuthError(err)) return err
        throw err
      }
      return expect.unreachable('expected a rejection')
    }
    try {
      const token = await issuer.mintClientToken({ clientId: 'bss', audience: ['smd'] })
      expect(await rejection(() => auth.verify(token))).toMatchObject({
        status: 503,
        reason: 'revocation_unavailable',
        headers: { 'Retry-After': '5' },
      })
      const other = await issuer.mintClientToken({ clientId: 'bss', audience: ['other'] })
      const refused = await rejection(() => auth.verify(other))
      expect(refused.headers['WWW-Authenticate']).toMatch(
        /^Bearer realm="smd", error="invalid_token"/,
      )
      const missing = await rejection(() => auth.authenticate({ headers: {} }))
      expect(missing.headers['WWW-Authenticate']).toBe('Bearer realm="smd"')
    } finally {
      auth.close()
    }
  })
})
